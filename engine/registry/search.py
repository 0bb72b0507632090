"""Searching and comparing many versions, as the MLflow UI does: a filter over parameters
and metrics, a side-by-side table of any number of versions, and that table as CSV.

A filter is clauses joined by ``and``; each clause is ``name OP value`` with OP one of
``=  !=  >  >=  <  <=``::

    metrics.accuracy > 0.55 and params.horizon = 10
    accuracy >= 0.6 and model_type = transformer

``metrics.<name>`` is a numeric leaf of ``performance_metrics`` (dotted for nested ones:
``backtest.sharpe``; ``accuracy`` and ``return_pct`` are the card values), ``params.<name>``
a leaf of the training configuration (``metadata["config"]``), and a bare name is looked
up as a metric, then a parameter, then a version field (``model_type``, ``status``,
``model_name``, ``created_by``). A value is a number, or text (quotes optional). A version
without the named value never matches. Numbers compare as numbers; text compares exactly
(case-insensitive) with ``=`` / ``!=`` and is refused with ``<``/``>``.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import ParameterError
from engine.registry.versions import (
    ModelVersionInfo,
    finite_number,
    flatten_metrics,
    get_version,
    list_versions,
)

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "==": operator.eq, "!=": operator.ne, ">=": operator.ge,
    "<=": operator.le, ">": operator.gt, "<": operator.lt}
_CLAUSE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(==|!=|>=|<=|=|>|<)\s*(.+?)\s*$")
_FIELDS = ("model_type", "status", "model_name", "created_by", "version_id")
#: The filter syntax, for error messages and the page's help.
FILTER_HELP = ("clauses joined by 'and', each 'name OP value' with OP one of = != > >= < <= "
               "— e.g. 'metrics.accuracy > 0.55 and params.horizon = 10'")


@dataclass(frozen=True)
class Clause:
    """One ``name OP value`` of a filter: ``scope`` is metrics, params or any."""

    scope: str
    name: str
    op: str
    value: float | str


def version_metrics(info: ModelVersionInfo) -> dict[str, float]:
    """The version's numeric metrics by dotted name, with the card values ``accuracy`` and
    ``return_pct`` (the return however it was recorded)."""
    out = flatten_metrics(info.performance_metrics)
    if info.accuracy is not None:
        out["accuracy"] = info.accuracy
    if info.return_pct is not None:
        out["return_pct"] = info.return_pct
    return out


def version_params(info: ModelVersionInfo) -> dict[str, Any]:
    """The version's training configuration as dotted leaves (``metadata["config"]``)."""
    cfg = info.metadata.get("config", info.metadata)
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, Mapping):
                walk(value, f"{prefix}{key}.")
            elif key != "history":
                out[f"{prefix}{key}"] = value

    if isinstance(cfg, Mapping):
        walk(cfg, "")
    return out


def _value(text: str) -> float | str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return float(text)
    except ValueError:
        return text


def parse_filter(text: str) -> list[Clause]:
    """The clauses of a filter (see the module docstring); an empty filter has none."""
    clauses: list[Clause] = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE) if text.strip() \
            else []:
        m = _CLAUSE.match(part)
        if not m:
            raise ParameterError(f"cannot read the filter clause {part.strip()!r}; write "
                                 f"{FILTER_HELP}")
        name, op, raw = m.groups()
        scope = "any"
        for prefix in ("metrics", "params"):
            if name.startswith(prefix + "."):
                scope, name = prefix, name[len(prefix) + 1:]
        value = _value(raw)
        if isinstance(value, str) and op in (">", ">=", "<", "<="):
            raise ParameterError(f"{name} {op} {raw}: '{op}' needs a number; text compares "
                                 "only with = or !=")
        clauses.append(Clause(scope, name, op, value))
    return clauses


def _lookup(info: ModelVersionInfo, clause: Clause) -> tuple[bool, Any]:
    if clause.scope in ("metrics", "any"):
        metrics = version_metrics(info)
        if clause.name in metrics:
            return True, metrics[clause.name]
    if clause.scope in ("params", "any"):
        params = version_params(info)
        if clause.name in params:
            return True, params[clause.name]
    if clause.scope == "any" and clause.name in _FIELDS:
        return True, getattr(info, clause.name)
    return False, None


def matches(info: ModelVersionInfo, clauses: Sequence[Clause]) -> bool:
    """Whether ``info`` satisfies every clause."""
    for c in clauses:
        found, have = _lookup(info, c)
        if not found or have is None:
            return False
        if isinstance(c.value, float):
            num = finite_number(have)
            if num is None:
                try:
                    num = float(have)
                except (TypeError, ValueError):
                    return False
            if not _OPS[c.op](num, c.value):
                return False
        elif not _OPS[c.op](str(have).lower(), c.value.lower()):
            return False
    return True


def search_versions(filter_text: str, *, versions: Sequence[ModelVersionInfo] | None = None,
                    **list_kwargs: Any) -> list[ModelVersionInfo]:
    """The versions matching ``filter_text`` (all when it is empty), in the order of
    ``versions`` or of :func:`list_versions` called with ``list_kwargs``."""
    clauses = parse_filter(filter_text)
    pool = list(versions) if versions is not None else list_versions(**list_kwargs)
    return [v for v in pool if matches(v, clauses)]


def compare_versions(version_ids: Sequence[str]) -> dict[str, Any]:
    """Any number of versions side by side (two or more).

    ``{"versions": [version dicts], "metrics": [{"name", "values": {id: number | None},
    "best": id | None}], "params": [{"name", "values": {id: value | None}, "differs"}]}``;
    every metric and parameter of any of them, sorted by name; ``best`` is the version with
    the highest value (no judgement of lower-is-better metrics is made: it is a marker, and
    ``None`` when fewer than two have the metric or the highest value is shared).
    """
    ids = list(dict.fromkeys(version_ids))
    if len(ids) < 2:
        raise ParameterError("compare needs at least two different versions; pick more")
    infos = [get_version(v) for v in ids]
    mets = {i.version_id: version_metrics(i) for i in infos}
    pars = {i.version_id: version_params(i) for i in infos}
    metric_rows = []
    for name in sorted({k for m in mets.values() for k in m}):
        values = {vid: mets[vid].get(name) for vid in ids}
        have = {k: v for k, v in values.items() if v is not None}
        top = max(have.values(), default=None)
        leaders = [k for k, v in have.items() if v == top]
        best = leaders[0] if len(have) >= 2 and len(leaders) == 1 else None
        metric_rows.append({"name": name, "values": values, "best": best})
    param_rows = []
    for name in sorted({k for p in pars.values() for k in p}):
        values = {vid: pars[vid].get(name) for vid in ids}
        shown = {repr(v) for v in values.values()}
        param_rows.append({"name": name, "values": values, "differs": len(shown) > 1})
    return {"versions": [i.to_dict() for i in infos], "metrics": metric_rows,
            "params": param_rows}


def comparison_csv(comparison: Mapping[str, Any]) -> str:
    """A :func:`compare_versions` result as CSV: one row per metric then per parameter
    (``kind``, ``name``, then one column per version id); missing values are empty."""
    ids = [v["version_id"] for v in comparison["versions"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "name", *ids])
    for kind in ("metrics", "params"):
        for row in comparison[kind]:
            w.writerow([kind[:-1], row["name"],
                        *("" if row["values"][v] is None else row["values"][v] for v in ids)])
    return buf.getvalue()


__all__ = ["FILTER_HELP", "Clause", "compare_versions", "comparison_csv", "matches",
           "parse_filter", "search_versions", "version_metrics", "version_params"]
