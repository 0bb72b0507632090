"""Evaluation of genome parameter sets on the run's windows — the code every backend runs.

Kept import-light at the top so a worker process can be configured (thread counts) before
numba and polars are loaded; :class:`WindowEvaluator` imports them on construction.

Single-symbol windows use the batch path of ``engine.backtest.runner.run_batch`` with one
difference: the indicator bank is kept *across generations* (new indicator keys of a
generation are computed in one polars ``select`` and appended), because a population
re-uses most of its indicators from one generation to the next. Every number still comes
from the same indicator expressions (``engine.backtest.bank.indicator_expr``) and the same
compiled ``run_batch_nb`` / ``simulate_nb`` / ``metrics_nb`` as a single backtest, so the
metrics equal ``run_backtest`` to the last digit (tests/evolution check it). The cache is
bounded (``CACHE_BYTES`` per window; when full it restarts from the current generation's
keys). Multi-symbol windows run ``run_portfolio`` once per parameter set.
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
        import numpy as np

        from engine.backtest.metrics import periods_per_year
        from engine.backtest.runner import ohlcv_arrays
        from engine.backtest.strategies import get_strategy

        self.frames = dict(frames)
        self.settings = settings
        self.strat = get_strategy("genome")
        self.single = len(self.frames) == 1
        if self.single:
            self.data = next(iter(self.frames.values()))
            self.arrays = ohlcv_arrays(self.data)
            self.ppy = periods_per_year(self.data.get_column("timestamp"))
            self.n_bars = self.data.height
            self._matrix = np.empty((0, self.n_bars))
            self._rows = 0
            self.index: dict[tuple, int] = {}

    # ------------------------------------------------------------------ indicator cache
    def _ensure(self, keys: Sequence[tuple]) -> None:
        import numpy as np

        from engine.backtest.bank import IndicatorBank

        wanted = list(dict.fromkeys(keys))
        new = [k for k in wanted if k not in self.index]
        if not new:
            return
        if (self._rows + len(new)) * self.n_bars * 8 > CACHE_BYTES:
            self._matrix = np.empty((0, self.n_bars))
            self._rows = 0
            self.index = {}
            new = wanted
        bank = IndicatorBank.build(self.data, new)
        need = self._rows + len(new)
        if need > self._matrix.shape[0]:
            cap = max(need, 2 * self._matrix.shape[0], 64)
            grown = np.empty((cap, self.n_bars))
            grown[: self._rows] = self._matrix[: self._rows]
            self._matrix = grown
        for k, i in bank.index.items():
            self._matrix[self._rows + i] = bank.matrix[i]
            self.index[k] = self._rows + i
        self._rows = need

    # ------------------------------------------------------------------ evaluation
    def metrics(self, param_sets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One metrics dict (``backtest`` keys) per parameter set, in order."""
        if not param_sets:
            return []
        if not self.single:
            from engine.backtest.portfolio import run_portfolio

            return [run_portfolio(self.frames, "genome", p, self.settings).metrics
                    for p in param_sets]
        import itertools

        import numpy as np

        from engine.backtest import kernel
        from engine.backtest.metrics import metrics_dict
        from engine.backtest.runner import trade_levels

        strat, s = self.strat, self.settings
        resolved = [strat.resolve(p) for p in param_sets]
        self._ensure(list(itertools.chain.from_iterable(strat.indicator_keys(p)
                                                        for p in resolved)))
        packed = [strat.pack(p, self.index) for p in resolved]
        m = len(resolved)
        width_r = max(len(r) for r, _ in packed) or 1
        width_v = max(len(v) for _, v in packed) or 1
        rows = np.zeros((m, width_r), np.int64)
        vals = np.zeros((m, width_v), np.float64)
        for i, (r, vv) in enumerate(packed):
            rows[i, : len(r)] = r
            vals[i, : len(vv)] = vv
        levels = np.array([trade_levels(strat, p, s) for p in resolved], np.float64)
        sl, tp, size = (np.ascontiguousarray(levels[:, k]) for k in range(3))
        out = np.empty((m, kernel.N_KERNEL_METRICS))
        o, h, l, c, v = self.arrays
        bank = self._matrix[: self._rows]
        kernel.run_batch_nb(
            strat.kernel_id, bank, rows, vals, o, h, l, c, v, s.allow_short, sl, tp, size,
            float(s.cash), float(s.commission), not s.fractional, self.ppy, out,
        )
        return [metrics_dict(out[i], self.ppy) for i in range(m)]


class Evaluator:
    """All windows of a run: ``{"is": frames, "oos": frames, "fold0": frames, ...}``."""

    def __init__(self, windows: Mapping[str, Mapping[str, Any]], settings: Any) -> None:
        self.windows = {name: WindowEvaluator(frames, settings)
                        for name, frames in windows.items()}

    def evaluate(self, param_sets: Sequence[Mapping[str, Any]]) -> dict[str, list[dict]]:
        return {name: w.metrics(param_sets) for name, w in self.windows.items()}


# ------------------------------------------------------------------ process-pool worker
_EVALUATOR: Evaluator | None = None


def init_worker(windows: Mapping[str, Mapping[str, Any]], settings: dict[str, Any],
                numba_threads: int) -> None:
    """Process-pool initializer: load the run's data once per worker."""
    global _EVALUATOR
    os.environ.setdefault("NUMBA_NUM_THREADS", str(numba_threads))
    import numba

    numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))
    from engine.backtest.runner import BacktestSettings

    _EVALUATOR = Evaluator(windows, BacktestSettings(**settings))


def eval_chunk(param_sets: list[dict[str, Any]]) -> dict[str, list[dict]]:
    """Evaluate one chunk of the population in a worker (after :func:`init_worker`)."""
    assert _EVALUATOR is not None, "init_worker did not run"
    return _EVALUATOR.evaluate(param_sets)


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
