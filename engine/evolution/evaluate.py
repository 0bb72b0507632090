"""The run's data windows and the evaluation backends.

**Windows.** :func:`load_windows` loads every symbol with the config's ``start``/``end``
(before anything else), aligns several symbols on their shared timestamps (as
``backtest --data A,B`` does), and splits by bar count (see :mod:`engine.evolution.config`):
``"is"`` (in-sample, selection), ``"oos"`` (out-of-sample, reporting only) and, with
walk-forward folds, ``"fold0"`` … ``"fold{K-1}"``.

**Backends** (``EvolutionConfig.backend``), all with ``submit(param_sets)``, whose handle's
``result()`` is ``{window: [metrics, ...]}`` in the order given, so results never depend on
the backend. The runner submits a generation and writes the previous one to the database
while it is evaluated (``engine.evolution.runner``).

- ``auto`` (default): ``process`` or ``inline`` by the size of a generation
  (:func:`choose_backend`).
- ``process``: the process's shared worker pool (:mod:`engine.evolution.pool`), started
  once and reused by every run; each worker receives the run's windows once; a generation is
  split into one share per worker — grouped by MACD periods so each worker's indicator cache
  covers its own part of the indicator space — and the results are reassembled in input
  order. Workers use ``cores // workers`` numba threads each, die with their parent
  (``engine.processes.die_with_parent``), and the pool is written down under
  ``<data dir>/pools`` so the next start ends the workers of a pool whose owner was killed.
- ``inline``: the same evaluator in this process (numba-parallel over the batch), run on
  one helper thread so a generation's compiled backtests (which release the GIL) overlap the
  previous generation's database commit.
- ``ray``: one actor per worker, each built from the windows put in the object store once;
  connects to ``STRATLAB_RAY_ADDRESS`` when set, else uses the Ray already initialised in
  this process, else starts a local one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from engine.config import get_settings
from engine.errors import DataError, ParameterError
from engine.evolution import pool
from engine.evolution.config import EvolutionConfig
from engine.evolution.worker import Evaluator, RayEvalActor

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
class _Overlapped:
    """An inline generation whose compiled backtests run on the helper thread."""

    def __init__(self, evaluator: Evaluator, prepared: dict[str, Any], ran: Future) -> None:
        self.evaluator, self.prepared, self.ran = evaluator, prepared, ran

    def result(self) -> dict[str, list[dict]]:
        self.ran.result()
        return self.evaluator.finish(self.prepared)


class InlineBackend:
    """Evaluate in this process, on one helper thread (see the module docstring)."""

    name = "inline"

    def __init__(self, cfg: EvolutionConfig, windows: Windows) -> None:
        self.evaluator = Evaluator(windows.frames, backtest_settings(cfg))
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evolution-eval")

    def submit(self, param_sets: Sequence[Mapping[str, Any]]) -> _Overlapped:
        prepared = self.evaluator.prepare(param_sets)
        return _Overlapped(self.evaluator, prepared,
                           self.thread.submit(self.evaluator.run, prepared))

    def close(self) -> None:
        self.thread.shutdown(wait=True, cancel_futures=True)
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


def affinity(param_sets: Sequence[Mapping[str, Any]], k: int) -> list[list[int]]:
    """Positions per worker, grouped by MACD periods (the most varied indicator), so each
    worker's indicator cache holds its own share of the MACD combinations."""
    groups: list[list[int]] = [[] for _ in range(k)]
    for i, p in enumerate(param_sets):
        key = (int(p["macd_fast"]) * 64 + int(p["macd_slow"])) * 64 + int(p["macd_signal"])
        groups[key % k].append(i)
    return groups


class _Shares:
    """A generation on the worker pool: one future per worker's share (input positions)."""

    def __init__(self, owner: pool.WorkerPool, n: int,
                 futures: list[tuple[list[int], Future]]) -> None:
        self.owner, self.n, self.futures = owner, n, futures

    def result(self) -> dict[str, list[dict]]:
        """The shares' metrics reassembled in input order."""
        merged: dict[str, list] = {}
        try:
            for g, fut in self.futures:
                for name, rows in fut.result().items():
                    slot = merged.setdefault(name, [None] * self.n)
                    for i, row in zip(g, rows, strict=True):
                        slot[i] = row
        except BrokenProcessPool:
            pool.discard_pool(self.owner)  # the next run starts a fresh one
            raise
        return merged


class ProcessBackend:
    """The process's shared worker pool (:mod:`engine.evolution.pool`: started once, reused
    by every run), given this run's windows once per worker.

    A generation is split by :func:`affinity`, one share per worker, and the results are
    reassembled in input order. A pool whose worker died is replaced (once) when the run
    starts; during a run the failure ends the run like any other.
    """

    name = "process"

    def __init__(self, cfg: EvolutionConfig, windows: Windows) -> None:
        settings = _settings_dict(cfg)
        self.key = f"{windows.fingerprint}|{sorted(settings.items())}|{sorted(windows.frames)}"
        for attempt in (1, 2):
            self.pool = pool.shared_pool(cfg.workers)
            try:
                self.pool.load(self.key, windows.frames, settings)
                break
            except BrokenProcessPool:
                pool.discard_pool(self.pool)
                if attempt == 2:
                    raise
        self.workers = self.pool.n

    def submit(self, param_sets: Sequence[Mapping[str, Any]]) -> _Shares:
        params = [dict(p) for p in param_sets]
        groups = affinity(params, self.workers)
        return _Shares(self.pool, len(params),
                       [(g, self.pool.submit(i, self.key, [params[j] for j in g]))
                        for i, g in enumerate(groups) if g])

    def close(self) -> None:
        """Nothing to end: the pool stays for the next run (``pool.shutdown_pool``)."""


class _RayShares:
    """A generation on the Ray actors: one object reference per actor's chunk."""

    def __init__(self, ray: Any, refs: list[Any]) -> None:
        self.ray, self.refs = ray, refs

    def result(self) -> dict[str, list[dict]]:
        return _merge(self.ray.get(self.refs)) if self.refs else {}


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

    def submit(self, param_sets: Sequence[Mapping[str, Any]]) -> _RayShares:
        chunks = _chunks([dict(p) for p in param_sets], len(self.actors))
        return _RayShares(self.ray, [a.evaluate.remote(c)
                                     for a, c in zip(self.actors, chunks, strict=False)])

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []


#: ``auto`` uses worker processes from this much work per generation (individuals × bars ×
#: symbols of the in-sample window) and 2+ cores; below it the run stays in this process,
#: where the compiled kernel already runs on every core and nothing is sent between
#: processes (measured: benchmarks/README.md, "Evolution").
AUTO_PROCESS_WORK = 1_000_000


def choose_backend(cfg: EvolutionConfig, windows: Windows) -> str:
    """The backend a run uses: ``ray`` when ``STRATLAB_RAY_ADDRESS`` is set, the config's
    otherwise; ``auto`` is ``process`` for a generation of at least :data:`AUTO_PROCESS_WORK`
    bar-evaluations on a machine with 2+ cores, else ``inline``."""
    if get_settings().default("evolution", "ray_address"):
        return "ray"
    if cfg.backend != "auto":
        return cfg.backend
    frames = windows.frames["is"]
    bars = next(iter(frames.values())).height
    work = max(cfg.island_sizes) * len(cfg.island_sizes) * bars * len(frames)
    return "process" if (os.cpu_count() or 1) >= 2 and work >= AUTO_PROCESS_WORK else "inline"


def make_backend(cfg: EvolutionConfig, windows: Windows):
    """The backend :func:`choose_backend` names, ready to evaluate."""
    cls = {"inline": InlineBackend, "process": ProcessBackend, "ray": RayBackend}
    return cls[choose_backend(cfg, windows)](cfg, windows)
