"""The run's data windows and the evaluation backends.

**Windows.** :func:`load_windows` loads every symbol with the config's ``start``/``end``
(before anything else), aligns several symbols on their shared timestamps (as
``backtest --data A,B`` does), and splits by bar count (see :mod:`engine.evolution.config`):
``"is"`` (in-sample, selection), ``"oos"`` (out-of-sample, reporting only) and, with
walk-forward folds, ``"fold0"`` … ``"fold{K-1}"``.

**Backends** (``EvolutionConfig.backend``), all with ``evaluate(param_sets) ->
{window: [metrics, ...]}`` in the order given, so results never depend on the backend:

- ``process`` (default): a ``ProcessPoolExecutor`` with the ``forkserver`` context (never
  ``fork``: the app process has threads), created once per :func:`~engine.evolution.evolve`
  call; each worker receives the windows once in its initializer; a generation is split
  into one share per worker — grouped by MACD periods so each worker's indicator cache
  covers its own part of the indicator space — and the results are reassembled in input
  order. Workers use ``cores // workers`` numba threads each. Workers die with their
  parent (``engine.processes.die_with_parent``: a parent-death signal on Linux and a
  watchdog thread everywhere), and each pool is written down under ``<data dir>/pools`` so
  the next start ends the workers of a pool whose owner was killed.
- ``inline``: the same evaluator in this process (numba-parallel over the batch).
- ``ray``: one actor per worker, each built from the windows put in the object store once;
  connects to ``STRATLAB_RAY_ADDRESS`` when set, else uses the Ray already initialised in
  this process, else starts a local one.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from engine.config import get_settings
from engine.errors import DataError, ParameterError
from engine.evolution.config import EvolutionConfig
from engine.evolution.worker import Evaluator, RayEvalActor, eval_chunk, init_worker, warm_up
from engine.processes import current_owner, forget_pool, reap_stale_pools, record_pool

#: Fewest bars a window may have (indicators need warm-up).
MIN_WINDOW_BARS = 30


@dataclass
class Windows:
    """The run's data: in-sample, out-of-sample and fold windows, and where they split."""

    frames: dict[str, dict[str, pl.DataFrame]]
    in_sample_start: datetime
    in_sample_end: datetime
    out_of_sample_start: datetime | None
    out_of_sample_end: datetime | None
    folds: list[tuple[datetime, datetime]] = field(default_factory=list)
    fingerprint: str = ""

    def split_dict(self) -> dict[str, Any]:
        def iso(d):
            return d.isoformat() if d is not None else None

        return {
            "in_sample_start": iso(self.in_sample_start),
            "in_sample_end": iso(self.in_sample_end),
            "out_of_sample_start": iso(self.out_of_sample_start),
            "out_of_sample_end": iso(self.out_of_sample_end),
            "folds": [[iso(a), iso(b)] for a, b in self.folds],
        }


def load_frames(cfg: EvolutionConfig) -> dict[str, pl.DataFrame]:
    """Every symbol of the run, windowed by start/end and aligned when there are several."""
    from engine.backtest.portfolio import align_frames
    from engine.market import load_dataset

    frames = {s: load_dataset(s, start=cfg.start, end=cfg.end) for s in cfg.symbols}
    return align_frames(frames) if len(frames) > 1 else frames


def _slice(frames: Mapping[str, pl.DataFrame], lo: int, hi: int) -> dict[str, pl.DataFrame]:
    return {s: df.slice(lo, hi - lo) for s, df in frames.items()}


def load_windows(cfg: EvolutionConfig, frames: Mapping[str, pl.DataFrame] | None = None
                 ) -> Windows:
    """Split the run's data into its windows (see the module docstring)."""
    from engine.market import dataset_fingerprint

    frames = dict(frames) if frames is not None else load_frames(cfg)
    ts = next(iter(frames.values())).get_column("timestamp")
    n = ts.len()
    out: dict[str, dict[str, pl.DataFrame]] = {}
    folds: list[tuple[datetime, datetime]] = []
    if cfg.walk_forward_folds:
        k = cfg.walk_forward_folds
        edges = [round(i * n / (k + 1)) for i in range(k + 2)]
        n_is = edges[k]
        for i in range(k):
            out[f"fold{i}"] = _slice(frames, edges[i], edges[i + 1])
            folds.append((ts[edges[i]], ts[edges[i + 1] - 1]))
    else:
        n_is = n - int(n * cfg.oos_fraction) if cfg.oos_fraction > 0 else n
    sizes = [n_is] + ([n - n_is] if n_is < n else [])
    sizes += [df.height for name, w in out.items() for df in list(w.values())[:1]]
    smallest = min(sizes)
    if smallest < MIN_WINDOW_BARS:
        raise DataError(
            f"the data has {n} bars, too few to split into windows of at least "
            f"{MIN_WINDOW_BARS} bars; widen start/end, lower oos_fraction or use fewer folds"
        )
    out["is"] = _slice(frames, 0, n_is)
    if n_is < n:
        out["oos"] = _slice(frames, n_is, n)
    return Windows(
        frames=out,
        in_sample_start=ts[0],
        in_sample_end=ts[n_is - 1],
        out_of_sample_start=ts[n_is] if n_is < n else None,
        out_of_sample_end=ts[n - 1] if n_is < n else None,
        folds=folds,
        fingerprint="+".join(dataset_fingerprint(df) for df in frames.values()),
    )


def _settings_dict(cfg: EvolutionConfig) -> dict[str, Any]:
    return {"cash": cfg.cash, "commission": cfg.commission, "allow_short": cfg.allow_short}


def backtest_settings(cfg: EvolutionConfig):
    from engine.backtest import BacktestSettings

    return BacktestSettings(**_settings_dict(cfg))


# ------------------------------------------------------------------------------ backends
class InlineBackend:
    """Evaluate in this process."""

    name = "inline"

    def __init__(self, cfg: EvolutionConfig, windows: Windows) -> None:
        self.evaluator = Evaluator(windows.frames, backtest_settings(cfg))

    def evaluate(self, param_sets: Sequence[Mapping[str, Any]]) -> dict[str, list[dict]]:
        return self.evaluator.evaluate(param_sets)

    def close(self) -> None:
        self.evaluator = None  # type: ignore[assignment]


def _chunks(items: Sequence[Any], k: int) -> list[list[Any]]:
    k = max(1, min(k, len(items)))
    base, extra = divmod(len(items), k)
    out, i = [], 0
    for j in range(k):
        step = base + (1 if j < extra else 0)
        out.append(list(items[i: i + step]))
        i += step
    return out


def _merge(parts: list[dict[str, list[dict]]]) -> dict[str, list[dict]]:
    merged: dict[str, list[dict]] = {}
    for part in parts:
        for name, rows in part.items():
            merged.setdefault(name, []).extend(rows)
    return merged


def _mp_context():
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["engine.evolution.worker", "engine.backtest.runner"])
        return ctx
    return mp.get_context("spawn")


def _affinity(param_sets: Sequence[Mapping[str, Any]], k: int) -> list[list[int]]:
    """Positions per worker, grouped by MACD periods (the most varied indicator), so each
    worker's indicator cache holds its own share of the MACD combinations."""
    groups: list[list[int]] = [[] for _ in range(k)]
    for i, p in enumerate(param_sets):
        key = (int(p["macd_fast"]) * 64 + int(p["macd_slow"])) * 64 + int(p["macd_signal"])
        groups[key % k].append(i)
    return groups


class ProcessBackend:
    """Worker processes (forkserver/spawn, never fork) created once per evolve call.

    One single-worker ``ProcessPoolExecutor`` per worker, so a worker always receives the
    same share of the indicator space (grouped by MACD periods) and its indicator cache
    stays useful from one generation to the next; results are reassembled in input order.
    """

    name = "process"

    def __init__(self, cfg: EvolutionConfig, windows: Windows) -> None:
        reap_stale_pools()  # workers a killed evolve left behind
        cores = os.cpu_count() or 1
        self.workers = cfg.workers or cores
        threads = max(1, cores // self.workers)
        ctx = _mp_context()
        self.pool_record = None
        self.pools = [ProcessPoolExecutor(
            max_workers=1, mp_context=ctx, initializer=init_worker,
            initargs=(windows.frames, _settings_dict(cfg), threads, current_owner()),
        ) for _ in range(self.workers)]
        # start every worker now (each loads the data once) and write the pool down
        self.pids = [f.result() for f in [p.submit(warm_up) for p in self.pools]]
        self.pool_record = record_pool("evolution", self.pids)

    def evaluate(self, param_sets: Sequence[Mapping[str, Any]]) -> dict[str, list[dict]]:
        if not param_sets:
            return {}
        params = [dict(p) for p in param_sets]
        groups = _affinity(params, self.workers)
        futures = [(g, pool.submit(eval_chunk, [params[i] for i in g]))
                   for g, pool in zip(groups, self.pools, strict=False) if g]
        merged: dict[str, list] = {}
        for g, fut in futures:
            for name, rows in fut.result().items():
                slot = merged.setdefault(name, [None] * len(params))
                for i, row in zip(g, rows, strict=False):
                    slot[i] = row
        return merged

    def close(self) -> None:
        for p in self.pools:
            p.shutdown(wait=True, cancel_futures=True)
        forget_pool(self.pool_record)


class RayBackend:
    """Ray actors, each holding the windows from one object-store copy."""

    name = "ray"

    def __init__(self, cfg: EvolutionConfig, windows: Windows) -> None:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - ray is installed in CI
            raise ParameterError(
                "backend ray needs `pip install ray`; or use backend process"
            ) from exc
        self.ray = ray
        if not ray.is_initialized():
            address = get_settings().default("evolution", "ray_address")
            ray.init(address=address, include_dashboard=False, ignore_reinit_error=True,
                     log_to_driver=False)
        n = cfg.workers or max(1, int(ray.available_resources().get("CPU", 1)))
        ref = ray.put(windows.frames)
        actor = ray.remote(num_cpus=1)(RayEvalActor)
        self.actors = [actor.remote(ref, _settings_dict(cfg)) for _ in range(n)]

    def evaluate(self, param_sets: Sequence[Mapping[str, Any]]) -> dict[str, list[dict]]:
        if not param_sets:
            return {}
        chunks = _chunks([dict(p) for p in param_sets], len(self.actors))
        futures = [a.evaluate.remote(c) for a, c in zip(self.actors, chunks, strict=False)]
        return _merge(self.ray.get(futures))

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []


def make_backend(cfg: EvolutionConfig, windows: Windows):
    """The backend the config asks for (``STRATLAB_RAY_ADDRESS`` forces ``ray``)."""
    name = "ray" if get_settings().default("evolution", "ray_address") else cfg.backend
    cls = {"inline": InlineBackend, "process": ProcessBackend, "ray": RayBackend}[name]
    return cls(cfg, windows)
