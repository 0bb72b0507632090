"""Read-only views over the model registry: comparing two versions and the lineage graph.

Apart from :mod:`engine.registry.versions` (registration, integrity) and
:mod:`engine.registry.deployments`; :mod:`engine.registry` re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import col, select

from engine.db import session_scope
from engine.errors import StratLabError
from engine.neural.window import last_bars_window
from engine.registry import models
from engine.registry.tables import ModelLineage, ModelVersion
from engine.registry.versions import (
    ModelVersionInfo,
    deployed_environments,
    finite_number,
    flatten_metrics,
    get_version,
    version_row,
)

# ------------------------------------------------------------------------------- comparing

def equity_curve(metrics: Mapping[str, Any]) -> dict[str, list] | None:
    """The equity curve stored in ``performance_metrics`` as ``{"x": [...], "y": [...]}``.

    Looked for under ``equity_curve`` or ``equity``, at the top level or under ``backtest``;
    accepted as a list of numbers, a list of ``[time, value]`` pairs or ``{"time"/"timestamp",
    "equity"/"value"}`` records, or a dict of two lists. ``None`` when there is none.
    """
    candidates: list[Any] = []
    for src in (metrics, metrics.get("backtest") if isinstance(metrics.get("backtest"),
                                                               Mapping) else None):
        if isinstance(src, Mapping):
            candidates += [src.get("equity_curve"), src.get("equity")]
    for cand in candidates:
        curve = _as_curve(cand)
        if curve:
            return curve
    return None


def _as_curve(value: Any) -> dict[str, list] | None:
    if isinstance(value, Mapping):
        xs = value.get("x") or value.get("timestamp") or value.get("time")
        ys = value.get("y") or value.get("equity") or value.get("value")
        if isinstance(ys, list) and ys:
            return {"x": list(xs) if isinstance(xs, list) and len(xs) == len(ys)
                    else list(range(len(ys))), "y": [float(v) for v in ys]}
        return None
    if not isinstance(value, list) or not value:
        return None
    if all(finite_number(v) is not None for v in value):
        return {"x": list(range(len(value))), "y": [float(v) for v in value]}
    if all(isinstance(v, (list, tuple)) and len(v) == 2 for v in value):
        return {"x": [v[0] for v in value], "y": [float(v[1]) for v in value]}
    if all(isinstance(v, Mapping) for v in value):
        xk = next((k for k in ("timestamp", "time", "x") if k in value[0]), None)
        yk = next((k for k in ("equity", "value", "y") if k in value[0]), None)
        if yk:
            return {"x": [v.get(xk) for v in value] if xk else list(range(len(value))),
                    "y": [float(v[yk]) for v in value]}
    return None


def _flatten_config(cfg: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(cfg, Mapping):
        for key, value in cfg.items():
            if isinstance(value, Mapping):
                out.update(_flatten_config(value, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = value
    return out


def compare(a: str, b: str, *, recompute_equity: bool = False,
            window_bars: int = 250) -> dict[str, Any]:
    """Two versions side by side.

    Returns ``{"a": version dict, "b": version dict, "metrics": [{"metric", "a", "b",
    "diff"}], "config_diff": [{"key", "a", "b"}] (only keys that differ), "equity": {"a":
    curve | None, "b": curve | None}, "equity_source", "equity_errors"}``; ``diff`` is
    ``b - a`` when both are numbers. Equity curves come from ``performance_metrics`` when
    stored there; with ``recompute_equity`` a version without one is re-run (its model's
    strategy) on the newest ``window_bars`` bars of its dataset — the same bars for two
    versions of one symbol. A curve that cannot be computed (tampered file, missing
    dataset) is ``None`` with the reason in ``equity_errors``.
    """
    va, vb = get_version(a), get_version(b)
    ma, mb = flatten_metrics(va.performance_metrics), flatten_metrics(vb.performance_metrics)
    rows = []
    for key in sorted(set(ma) | set(mb)):
        x, y = ma.get(key), mb.get(key)
        rows.append({"metric": key, "a": x, "b": y,
                     "diff": (y - x) if x is not None and y is not None else None})
    ca = _flatten_config(va.metadata.get("config", va.metadata))
    cb = _flatten_config(vb.metadata.get("config", vb.metadata))
    diff = [{"key": k, "a": ca.get(k), "b": cb.get(k)}
            for k in sorted(set(ca) | set(cb)) if ca.get(k) != cb.get(k)]
    equity = {"a": equity_curve(va.performance_metrics),
              "b": equity_curve(vb.performance_metrics)}
    source = {k: "stored" for k, v in equity.items() if v}
    errors: dict[str, str] = {}
    if recompute_equity:
        for key, info in (("a", va), ("b", vb)):
            if equity[key] is None:
                try:
                    equity[key] = _recompute_equity(info, window_bars)
                    source[key] = f"recomputed on the newest {window_bars} bars"
                except Exception as exc:  # shown next to the chart, never raised
                    errors[key] = str(exc) if isinstance(exc, StratLabError) else (
                        f"{type(exc).__name__}: {exc}")
    return {"a": va.to_dict(), "b": vb.to_dict(), "metrics": rows, "config_diff": diff,
            "equity": equity, "equity_source": source, "equity_errors": errors}


def _recompute_equity(info: ModelVersionInfo, window_bars: int) -> dict[str, list]:
    window = last_bars_window(models.version_config(info), window_bars)
    return models.version_equity(info.version_id, window.eval_data, window.start_time)


# --------------------------------------------------------------------------------- lineage

def lineage(version_id: str) -> dict[str, Any]:
    """The version's ancestors and descendants as a graph.

    ``{"root": version_id, "nodes": [{"version_id", "model_type", "model_name", "status",
    "created_at", "accuracy", "deployed_to", "depth"}], "edges": [{"source" (parent),
    "target" (child), "relationship"}]}``; ``depth`` is the generation relative to the
    requested version (ancestors negative, descendants positive).
    """
    with session_scope() as s:
        version_row(s, version_id)
        edges = {(e.parent_version, e.version_id): e.relationship_type
                 for e in s.exec(select(ModelLineage)).all()}
        for v in s.exec(select(ModelVersion).where(
                col(ModelVersion.parent_version).is_not(None))).all():
            edges.setdefault((v.parent_version, v.version_id), "parent")
        parents: dict[str, list[str]] = {}
        children: dict[str, list[str]] = {}
        for p, c in edges:
            parents.setdefault(c, []).append(p)
            children.setdefault(p, []).append(c)
        depth = {version_id: 0}
        for links, step in ((parents, -1), (children, 1)):
            frontier = [version_id]
            while frontier:
                nxt = []
                for v in frontier:
                    for w in links.get(v, []):
                        if w not in depth:
                            depth[w] = depth[v] + step
                            nxt.append(w)
                frontier = nxt
        rows = {r.version_id: r for r in s.exec(select(ModelVersion).where(
            col(ModelVersion.version_id).in_(list(depth)))).all()}
        envs = deployed_environments(s)
    nodes = []
    for vid, d in sorted(depth.items(), key=lambda kv: (kv[1], kv[0])):
        r = rows.get(vid)
        nodes.append({
            "version_id": vid, "depth": d,
            "model_type": r.model_type if r else None, "model_name": r.model_name if r else None,
            "status": r.status if r else "MISSING",
            "created_at": r.created_at.isoformat() if r else None,
            "accuracy": finite_number((r.performance_metrics or {}).get("accuracy")) if r else None,
            "deployed_to": sorted(envs.get(vid, [])),
        })
    out_edges = [{"source": p, "target": c, "relationship": rel}
                 for (p, c), rel in sorted(edges.items()) if p in depth and c in depth]
    return {"root": version_id, "nodes": nodes, "edges": out_edges}
