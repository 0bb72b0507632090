"""Creating, running and resuming a walk-forward analysis.

:func:`create_analysis` validates the configuration against the data (not enough bars for
the windows is refused here, with the fix), stores the analysis, its window rows and one
evolution run per window (``"walk-forward {id} window {k}"``, in-sample bars only, the
window's seed). :func:`run_analysis` then

1. evolves every window not finished yet — in this process (``inline``), on a pool of
   worker processes, one window per worker at a time (``process``; forkserver, never fork;
   ``cores // workers`` numba threads each; workers die with their parent), or as Ray tasks
   (``ray``, when ray is installed) — each window's genes are stored as soon as its
   evolution completes, so a killed analysis loses at most the windows in flight (and those
   continue from their evolution run's last generation);
2. trades each window's genes on its out-of-sample bars and stitches the curve
   (:mod:`engine.walkforward.stitching`), then stores the summary.

Windows are independent (each has its own seed, evolution is deterministic), so the result
does not depend on the backend, on the number of workers, or on interruptions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from engine.errors import ParameterError, StratLabError
from engine.progress import ProgressCallback, report
from engine.walkforward import store
from engine.walkforward.config import WalkForwardConfig
from engine.walkforward.stitching import efficiency, gene_stability, stitch
from engine.walkforward.windows import WindowSpan, split_windows
from engine.walkforward.worker import evolve_window, init_worker, lab_env, ray_evolve_window


def load_data(cfg: WalkForwardConfig):
    """The analysis's bars (``start``/``end`` applied)."""
    from engine.market import load_dataset

    return load_dataset(cfg.symbol, start=cfg.start, end=cfg.end)


def plan(cfg: WalkForwardConfig, data=None) -> list[WindowSpan]:
    """The window pairs ``cfg`` cuts from its data (raises when the data is too short)."""
    data = load_data(cfg) if data is None else data
    ts = data.get_column("timestamp")
    label = f"{cfg.symbol} ({ts[0]:%Y-%m-%d} to {ts[-1]:%Y-%m-%d})"
    return split_windows(data.height, cfg.windows, cfg.is_bars, cfg.oos_bars,
                         anchored=cfg.anchored, label=label)


def create_analysis(config: WalkForwardConfig | Mapping[str, Any], *, name: str = "") -> int:
    """Store a new analysis (status ``created``) with its windows and evolution runs."""
    from engine.evolution import create_run
    from engine.market import dataset_fingerprint

    cfg = config if isinstance(config, WalkForwardConfig) else WalkForwardConfig(**config)
    data = load_data(cfg)
    spans = plan(cfg, data)
    ts = data.get_column("timestamp")
    rows = [{"window_index": s.index, "is_lo": s.is_lo, "is_hi": s.is_hi, "oos_lo": s.oos_lo,
             "oos_hi": s.oos_hi, "is_start": ts[s.is_lo], "is_end": ts[s.is_hi - 1],
             "oos_start": ts[s.oos_lo], "oos_end": ts[s.oos_hi - 1],
             "seed": cfg.window_seed(s.index)} for s in spans]
    analysis_id = store.create_rows(cfg.to_dict(), name=name, symbol=cfg.symbol,
                                    fingerprint=dataset_fingerprint(data), windows=rows)
    runs = {}
    for s, r in zip(spans, rows, strict=True):
        evo = cfg.evolution_config(s.index, r["is_start"].isoformat(), r["is_end"].isoformat())
        runs[s.index] = create_run(evo, name=f"walk-forward {analysis_id} window {s.index}")
    store.set_window_runs(analysis_id, runs)
    return analysis_id


def _spans(rows) -> list[WindowSpan]:
    return [WindowSpan(w.window_index, w.is_lo, w.is_hi, w.oos_lo, w.oos_hi) for w in rows]


def run_analysis(analysis_id: int, *, on_progress: ProgressCallback | None = None
                 ) -> store.AnalysisInfo:
    """Evolve the windows not finished yet, then trade and stitch; returns the analysis.

    ``on_progress(done, total, message)`` is called as each window finishes. A failure marks
    the analysis ``failed`` (Ctrl-C: ``interrupted``); run it again to resume.
    """
    store.recover_interrupted()
    row = store.get_row(analysis_id)
    cfg = WalkForwardConfig(**row.config)
    store.claim(analysis_id)
    t0 = time.perf_counter()
    try:
        from engine.market import dataset_fingerprint

        data = load_data(cfg)
        if dataset_fingerprint(data) != row.data_fingerprint:
            raise StratLabError(
                f"the data of walk-forward analysis {analysis_id} changed since it was "
                f"created ({row.data_fingerprint} → {dataset_fingerprint(data)}); create a "
                "new analysis")
        rows = store.window_rows(analysis_id)
        pending = [w.window_index for w in rows if w.finished_at is None]
        total = len(rows)
        done = total - len(pending)
        if pending:
            for k in _evolve(cfg, analysis_id, pending):
                done += 1
                report(on_progress, done, total, f"window {k} evolved ({done}/{total})")
        result = summarise(analysis_id, cfg, data)
    except BaseException as exc:
        import traceback

        status = "failed" if isinstance(exc, Exception) else "interrupted"
        error = (str(exc) if isinstance(exc, StratLabError)
                 else "".join(traceback.format_exception(exc))[-8000:])
        store.finish(analysis_id, status, seconds=time.perf_counter() - t0, error=error)
        raise
    seconds = time.perf_counter() - t0
    store.finish(analysis_id, "completed", seconds=seconds, result=result)
    return get_analysis(analysis_id)


def _evolve(cfg: WalkForwardConfig, analysis_id: int, pending: list[int]):
    """Evolve ``pending`` windows on the configured backend; yields each as it finishes."""
    if cfg.backend == "inline" or (cfg.backend == "process" and len(pending) == 1
                                   and cfg.workers is None):
        for k in pending:
            evolve_window(analysis_id, k)
            yield k
    elif cfg.backend == "process":
        yield from _evolve_processes(cfg, analysis_id, pending)
    else:
        yield from _evolve_ray(cfg, analysis_id, pending)


def _evolve_processes(cfg: WalkForwardConfig, analysis_id: int, pending: list[int]):
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from engine.processes import current_owner, mp_context

    cores = os.cpu_count() or 1
    workers = min(cfg.workers or cores, len(pending))
    threads = max(1, cores // workers)
    env = lab_env()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp_context(),
                               initializer=init_worker, initargs=(env, threads, current_owner()))
    try:
        futures = {pool.submit(evolve_window, analysis_id, k, env): k for k in pending}
        while futures:
            finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
            for f in sorted(finished, key=lambda f: futures[f]):
                k = futures.pop(f)
                f.result()  # a window's failure fails the analysis (finished ones are kept)
                yield k
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _evolve_ray(cfg: WalkForwardConfig, analysis_id: int, pending: list[int]):
    try:
        import ray
    except ImportError as exc:
        raise ParameterError("backend ray needs `pip install ray`; or use backend process "
                             "(--backend process)") from exc
    from engine.config import get_settings

    if not ray.is_initialized():
        ray.init(address=get_settings().default("evolution", "ray_address"),
                 include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    task = ray.remote(num_cpus=1)(ray_evolve_window)
    env = lab_env()
    refs = {task.remote(analysis_id, k, env): k for k in pending}
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        for r in ready:
            k = refs.pop(r)
            ray.get(r)
            yield k


def summarise(analysis_id: int, cfg: WalkForwardConfig, data=None) -> dict[str, Any]:
    """Trade and stitch the finished windows; store their out-of-sample metrics; return the
    summary document (the ``stitched``, ``efficiency`` and ``gene_stability`` keys)."""
    data = load_data(cfg) if data is None else data
    rows = store.window_rows(analysis_id)
    if any(w.finished_at is None for w in rows):
        raise StratLabError(f"walk-forward analysis {analysis_id} has windows not evolved "
                            "yet; run it to the end first")
    st = stitch(data, _spans(rows), [w.params for w in rows], cash=cfg.cash,
                commission=cfg.commission, allow_short=cfg.allow_short)
    oos = {w.window_index: dict(t.metrics) for w, t in zip(rows, st.windows, strict=True)}
    store.store_out_of_sample(analysis_id, oos)
    is_cagr = [(w.in_sample or {}).get("cagr_pct") for w in rows]
    per_window = {w.window_index: efficiency(oos[w.window_index].get("cagr_pct"), c)
                  for w, c in zip(rows, is_cagr, strict=True)}
    finite = [c for c in is_cagr if c is not None]
    mean_is = sum(finite) / len(finite) if finite else None
    ts = st.equity.get_column("timestamp")
    return {
        "stitched": {"start": ts[0].isoformat(), "end": ts[-1].isoformat(),
                     "bars": st.equity.height, "metrics": st.metrics},
        "efficiency": efficiency(st.metrics.get("cagr_pct"), mean_is),
        "window_efficiency": {str(k): v for k, v in per_window.items()},
        "gene_stability": gene_stability([w.params for w in rows]),
    }


def get_analysis(analysis_id: int) -> store.AnalysisInfo:
    """An analysis with its windows (runs of dead processes show as ``interrupted``)."""
    store.recover_interrupted()
    return store.analysis_info(store.get_row(analysis_id), store.window_rows(analysis_id))


def list_analyses() -> list[store.AnalysisInfo]:
    """Every analysis, newest first (without window rows)."""
    store.recover_interrupted()
    return [store.analysis_info(r, []) for r in store.list_rows()]


def stitched_curve(analysis_id: int):
    """The stitched out-of-sample result of a finished analysis, recomputed from its genes
    (a :class:`~engine.walkforward.stitching.Stitched`: ``equity`` frame with
    ``buy_hold_equity`` and ``window``, ``trades``, ``metrics``)."""
    row = store.get_row(analysis_id)
    cfg = WalkForwardConfig(**row.config)
    rows = store.window_rows(analysis_id)
    if any(w.finished_at is None for w in rows):
        raise StratLabError(f"walk-forward analysis {analysis_id} is not finished; run it "
                            "first")
    return stitch(load_data(cfg), _spans(rows), [w.params for w in rows], cash=cfg.cash,
                  commission=cfg.commission, allow_short=cfg.allow_short)


def run_walkforward(config: WalkForwardConfig | Mapping[str, Any], *, name: str = "",
                    on_progress: ProgressCallback | None = None) -> store.AnalysisInfo:
    """Create an analysis from ``config`` and run it to the end."""
    return run_analysis(create_analysis(config, name=name), on_progress=on_progress)


def document(info: store.AnalysisInfo) -> dict[str, Any]:
    """The ``walkforward --json`` document of an analysis."""
    r = info.result or {}
    eff = r.get("window_efficiency") or {}
    return {
        "analysis_id": info.id,
        "symbol": info.symbol,
        "status": info.status,
        "anchored": bool(info.config.get("anchored")),
        "seconds": info.seconds,
        "windows": [{**w.to_dict(), "efficiency": eff.get(str(w.window))}
                    for w in info.windows],
        "stitched": r.get("stitched"),
        "efficiency": r.get("efficiency"),
        "gene_stability": r.get("gene_stability"),
    }
