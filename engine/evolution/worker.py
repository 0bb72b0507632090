"""Evaluation of genome parameter sets on the run's windows — the code every backend runs.

Kept import-light at the top so a worker process can be configured (thread counts) before
numba and polars are loaded; :class:`WindowEvaluator` imports them on construction.

Single-symbol windows call ``engine.backtest.runner.run_batch`` with an indicator bank
kept *across generations* (``IndicatorBank.ensure`` appends only a generation's new keys),
because a population re-uses most of its indicators from one generation to the next. Every
number comes from the same indicator expressions and compiled kernels as a single
backtest, so the metrics equal ``run_backtest`` to the last digit (tests/evolution check
it). The cache is bounded (``CACHE_BYTES`` per window; past it the bank restarts).
Multi-symbol windows get the same treatment through ``engine.backtest.PortfolioBatch``: a
bank per symbol kept across generations, signals from the compiled signal kernel, the
account in the compiled portfolio step — equal to ``run_portfolio`` to the last digit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

#: Upper bound on one window's cached indicator matrix (bytes).
CACHE_BYTES = 256 * 1024 * 1024


class WindowEvaluator:
    """Metrics of many genome parameter sets on one window (one or several symbols)."""

    def __init__(self, frames: Mapping[str, Any], settings: Any) -> None:
        self.frames = dict(frames)
        self.settings = settings
        self.single = len(self.frames) == 1
        self.portfolio = None  # multi-symbol: a PortfolioBatch (per-symbol banks), built once
        if self.single:
            from engine.backtest.bank import IndicatorBank

            self.data = next(iter(self.frames.values()))
            self.bank = IndicatorBank.build(self.data, [])

    def prepare(self, param_sets: Sequence[Mapping[str, Any]], plan: Any = None) -> Any:
        """The window's work for ``param_sets`` up to the compiled backtests: a
        ``PendingBatch`` (one symbol), or the metrics themselves (several symbols: the
        portfolio batch runs whole here). ``plan``: the sets' ``BatchPlan``, shared by
        the windows (:meth:`Evaluator.prepare`)."""
        if not param_sets:
            return []
        if not self.single:
            if self.portfolio is None:
                from engine.backtest.portfolio import PortfolioBatch

                self.portfolio = PortfolioBatch(self.frames, "genome", self.settings,
                                                cache_bytes=CACHE_BYTES)
            return self.portfolio.metrics(param_sets, validated=True)
        from engine.backtest.runner import prepare_batch

        if len(self.bank) * self.data.height * 8 > CACHE_BYTES:
            from engine.backtest.bank import IndicatorBank

            self.bank = IndicatorBank.build(self.data, [])  # bounded: restart the cache
        # the genes were repaired (engine.evolution.genome.repair): complete, typed, in range
        return prepare_batch(self.data, "genome", param_sets, self.settings, bank=self.bank,
                             validated=True, plan=plan)

    @staticmethod
    def run(prepared: Any) -> None:
        """The compiled backtests of :meth:`prepare`'s batch (GIL released; any thread)."""
        if not isinstance(prepared, list):
            prepared.run()

    @staticmethod
    def finish(prepared: Any) -> list[dict[str, Any]]:
        """The metrics dicts (``backtest`` keys) of a prepared batch that ran, in order."""
        if isinstance(prepared, list):
            return prepared
        return prepared.result().all_metrics()


class Evaluator:
    """All windows of a run: ``{"is": frames, "oos": frames, "fold0": frames, ...}``."""

    def __init__(self, windows: Mapping[str, Mapping[str, Any]], settings: Any) -> None:
        self.settings = settings
        self.windows = {name: WindowEvaluator(frames, settings)
                        for name, frames in windows.items()}

    def evaluate(self, param_sets: Sequence[Mapping[str, Any]]) -> dict[str, list[dict]]:
        prepared = self.prepare(param_sets)
        self.run(prepared)
        return self.finish(prepared)

    def prepare(self, param_sets: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Every window's :meth:`WindowEvaluator.prepare`, the single-symbol ones sharing
        one ``BatchPlan`` (the same sets: the same keys, values and levels)."""
        plan = None
        if param_sets and any(w.single for w in self.windows.values()):
            from engine.backtest.packing import batch_columns, plan_batch
            from engine.backtest.strategies import get_strategy

            strat, resolved = get_strategy("genome"), list(param_sets)  # repaired genes
            plan = plan_batch(strat, resolved, batch_columns(strat, resolved),
                              self.settings)
        return {name: w.prepare(param_sets, plan if w.single else None)
                for name, w in self.windows.items()}

    @staticmethod
    def run(prepared: Mapping[str, Any]) -> None:
        """Every window's compiled backtests (no Python objects touched: any thread)."""
        for p in prepared.values():
            WindowEvaluator.run(p)

    @staticmethod
    def finish(prepared: Mapping[str, Any]) -> dict[str, list[dict]]:
        return {name: WindowEvaluator.finish(p) for name, p in prepared.items()}


# ------------------------------------------------------------------ process-pool worker
#: The datasets this worker holds (key → evaluator), oldest first (engine.evolution.pool).
_EVALUATORS: dict[str, Evaluator] = {}


def init_process(numba_threads: int, owner: Any = None) -> None:
    """Process-pool initializer: die with the parent (``owner``: the process that created
    the pool, see :func:`engine.processes.die_with_parent`) and set numba's thread count."""
    from engine.processes import die_with_parent

    die_with_parent(owner)
    # numba.set_num_threads only: setting NUMBA_NUM_THREADS here would clash with numba's
    # config reload at the next compile once its threads run ("Cannot set
    # NUMBA_NUM_THREADS to a different value once the threads have been launched").
    import numba

    numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))


def load_dataset(key: str, windows: Mapping[str, Mapping[str, Any]],
                 settings: dict[str, Any], keep: int) -> None:
    """Hold a run's windows under ``key`` (keeping the ``keep`` most recent datasets)."""
    from engine.backtest.runner import BacktestSettings

    _EVALUATORS.pop(key, None)
    _EVALUATORS[key] = Evaluator(windows, BacktestSettings(**settings))
    while len(_EVALUATORS) > keep:
        _EVALUATORS.pop(next(iter(_EVALUATORS)))


def eval_chunk(key: str, param_sets: list[dict[str, Any]]) -> dict[str, list[dict]]:
    """Evaluate one share of a generation on dataset ``key`` (after :func:`load_dataset`)."""
    evaluator = _EVALUATORS.get(key)
    if evaluator is None:
        raise RuntimeError(f"worker {os.getpid()} has no dataset {key!r} loaded")
    return evaluator.evaluate(param_sets)


def warm_up(_: object = None) -> int:
    """Touch the worker (forces the initializer to run); returns its pid."""
    return os.getpid()


class RayEvalActor:
    """A Ray actor holding the run's data (from the object store) and its caches."""

    def __init__(self, windows: Mapping[str, Mapping[str, Any]], settings: dict[str, Any]
                 ) -> None:
        from engine.backtest.runner import BacktestSettings

        self.evaluator = Evaluator(windows, BacktestSettings(**settings))

    def evaluate(self, param_sets: list[dict[str, Any]]) -> dict[str, list[dict]]:
        return self.evaluator.evaluate(param_sets)
