"""The evolution's worker pool, started once per process and reused by every run after it.

Starting a worker costs far more than most generations (a fresh interpreter, numba's and
polars' imports, the compiled kernels loaded from the on-disk cache: about a second each), so
the process backend no longer starts and stops its workers with every ``evolve`` call. The
first run that needs workers starts :func:`shared_pool`; later runs — in the app, every
evolution a user starts — find it warm and only send their data (:meth:`WorkerPool.load`,
once per worker and run, keyed by the run's data fingerprint and settings; a worker keeps the
last :data:`KEEP_LOADED` datasets, so memory stays bounded).

One single-worker ``ProcessPoolExecutor`` per worker (``forkserver``, never ``fork``: the app
has threads), so a worker always receives the same share of the indicator space (see
:func:`engine.evolution.evaluate.affinity`) and its indicator cache stays useful across
generations. Workers die with their parent (:func:`engine.processes.die_with_parent`) and
the pool is written down (:func:`engine.processes.record_pool`) so a later start ends the
workers of an owner killed with ``kill -9``. A broken pool (a worker killed) is replaced at
the next use. :func:`shutdown_pool` (also run at exit) ends it.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from engine.evolution import worker
from engine.processes import (
    current_owner,
    forget_pool,
    mp_context,
    reap_stale_pools,
    record_pool,
)

#: Datasets (run data + settings) a worker keeps loaded; an older one is dropped.
KEEP_LOADED = 2


class WorkerPool:
    """``n`` worker processes, each its own executor (see the module docstring)."""

    def __init__(self, n: int, threads: int) -> None:
        reap_stale_pools()  # workers a killed owner left behind
        self.n, self.threads = n, threads
        ctx = mp_context(("engine.evolution.worker", "engine.backtest.runner"))
        self.executors = [ProcessPoolExecutor(max_workers=1, mp_context=ctx,
                                              initializer=worker.init_process,
                                              initargs=(threads, current_owner()))
                          for _ in range(n)]
        self.pids = [f.result() for f in [e.submit(worker.warm_up) for e in self.executors]]
        self.record = record_pool("evolution", self.pids)
        self.loaded: list[str] = []  # dataset keys, oldest first (the same on every worker)
        self.lock = threading.Lock()

    def load(self, key: str, windows: Mapping[str, Mapping[str, Any]],
             settings: Mapping[str, Any]) -> None:
        """Give every worker the run's windows under ``key`` (once: a key it has is kept;
        then the workers are only pinged, so a dead one is found before the run starts)."""
        with self.lock:
            if key in self.loaded:
                for f in [e.submit(worker.warm_up) for e in self.executors]:
                    f.result()
                return
            futures = [e.submit(worker.load_dataset, key, windows, dict(settings), KEEP_LOADED)
                       for e in self.executors]
            for f in futures:
                f.result()
            self.loaded = (self.loaded + [key])[-KEEP_LOADED:]

    def submit(self, i: int, key: str, param_sets: Sequence[Mapping[str, Any]]):
        """Evaluate ``param_sets`` on dataset ``key`` in worker ``i`` (a future)."""
        return self.executors[i].submit(worker.eval_chunk, key, list(param_sets))

    def shutdown(self) -> None:
        for e in self.executors:
            e.shutdown(wait=True, cancel_futures=True)
        forget_pool(self.record)
        self.record = None


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def shared_pool(workers: int | None = None) -> WorkerPool:
    """This process's pool with ``workers`` workers (default: one per core), started on
    first use and reused afterwards; replaced when its size differs (a pool whose worker
    died is dropped by :func:`discard_pool` when its failure is seen)."""
    global _POOL
    cores = os.cpu_count() or 1
    n = workers or cores
    threads = max(1, cores // n)
    with _POOL_LOCK:
        if _POOL is not None and _POOL.n != n:
            _POOL.shutdown()
            _POOL = None
        if _POOL is None:
            _POOL = WorkerPool(n, threads)
        return _POOL


def discard_pool(pool: WorkerPool) -> None:
    """Drop ``pool`` after it failed (a worker died), so the next run starts a fresh one."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is pool:
            _POOL = None
    try:
        pool.shutdown()
    except Exception:  # noqa: BLE001 - it is broken already; nothing more to do
        pass


def shutdown_pool() -> None:
    """End this process's pool, if any (also registered to run at exit)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown()


def current_pool() -> WorkerPool | None:
    """The running pool, if one was started (for the System page and tests)."""
    return _POOL


atexit.register(shutdown_pool)
