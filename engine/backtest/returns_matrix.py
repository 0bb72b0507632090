"""Per-bar returns of many parameter sets: the T × N matrix data-snooping statistics need.

:func:`run_batch` keeps only each set's metrics (the equity curves are never stored); the
probability of backtest overfitting and the SPA test need every set's return on every bar.
:func:`returns_matrix` recomputes them with the same signal and simulation code
(:func:`engine.backtest.kernel.signals_nb` and ``simulate_nb``, one shared indicator bank,
numba-parallel over the sets), so column ``j`` is exactly
``equity[1:] / equity[:-1] - 1`` of ``run_backtest(data, strategy, param_sets[j], settings)``
(a bar whose previous equity is not positive — a wiped-out account — counts 0).

Several symbols (a dict of aligned frames) go through :func:`run_portfolio` one set at a
time — the same curve, without the batch speed-up.

:func:`buy_hold_returns` is the benchmark of the same bars: the close-to-close return of
the one symbol, or the mean of the symbols' returns (the equal-weight basket, rebalanced).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
from numba import njit, prange

from engine.backtest import kernel
from engine.backtest.bank import IndicatorBank
from engine.backtest.enums import N_STATS, TRADE_DTYPE
from engine.backtest.kernel import signals_nb, simulate_nb
from engine.backtest.packing import pack_batch, resolve_batch
from engine.backtest.results import BacktestSettings
from engine.backtest.runner import ohlcv_arrays
from engine.backtest.strategies import get_strategy
from engine.errors import ParameterError

__all__ = ["buy_hold_returns", "returns_matrix"]


@njit(cache=True, nogil=True, parallel=True)
def returns_batch_nb(strategy, bank, rows, vals, open_, high, low, close, volume,
                     allow_short, sl_frac, tp_frac, size_frac, cash0, commission,
                     whole_units, out):
    """Per-bar returns of ``rows.shape[0]`` parameter sets into ``out`` (T − 1, m)."""
    m = rows.shape[0]
    n = close.shape[0]
    dummy = np.empty(0, TRADE_DTYPE)
    for j in prange(m):
        sig = np.empty(n, np.int8)
        eq = np.empty(n)
        pos = np.empty(n)
        stats = np.zeros(N_STATS)
        signals_nb(strategy, bank, rows[j], vals[j], close, volume, sig)
        simulate_nb(open_, high, low, close, sig, allow_short, sl_frac[j], tp_frac[j],
                    size_frac[j], cash0, commission, whole_units, eq, pos, stats, False,
                    dummy)
        for t in range(1, n):
            out[t - 1, j] = eq[t] / eq[t - 1] - 1.0 if eq[t - 1] > 0 else 0.0


def _frames(data: pl.DataFrame | Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    if isinstance(data, pl.DataFrame):
        return {"data": data}
    frames = dict(data)
    if not frames:
        raise ParameterError("returns_matrix needs at least one frame; give a DataFrame or "
                             "a {symbol: DataFrame} dict")
    return frames


def returns_matrix(
    data: pl.DataFrame | Mapping[str, pl.DataFrame],
    strategy: str,
    param_sets: Sequence[Mapping[str, Any]],
    settings: BacktestSettings | None = None,
) -> np.ndarray:
    """``(T − 1, N)`` float64 per-bar returns of each parameter set (module docstring)."""
    settings = settings or BacktestSettings()
    frames = _frames(data)
    strat = get_strategy(strategy)
    resolved, cols = resolve_batch(strat, param_sets)
    if len(frames) > 1:
        return _portfolio_matrix(frames, strategy, resolved, settings)
    df = next(iter(frames.values()))
    o, h, lo, c, v = ohlcv_arrays(df)
    m = len(resolved)
    out = np.zeros((c.shape[0] - 1, m))
    if m == 0:
        return out
    bank = IndicatorBank.build(df, [])
    packed = pack_batch(strat, resolved, cols, lambda keys: bank.rows_of(df, keys), settings)
    rows, vals, sl, tp, size = packed.rows, packed.vals, packed.sl, packed.tp, packed.size
    with kernel.PARALLEL_LOCK:
        returns_batch_nb(strat.kernel_id, bank.matrix, rows, vals, o, h, lo, c, v,
                         settings.allow_short, sl, tp, size, float(settings.cash),
                         float(settings.commission), not settings.fractional, out)
    return out


def _portfolio_matrix(frames: dict[str, pl.DataFrame], strategy: str,
                      resolved: list[dict[str, Any]], settings: BacktestSettings
                      ) -> np.ndarray:
    from engine.backtest.portfolio import run_portfolio

    n = next(iter(frames.values())).height
    out = np.zeros((n - 1, len(resolved)))
    for j, p in enumerate(resolved):
        eq = run_portfolio(frames, strategy, p, settings).equity.get_column("equity").to_numpy()
        prev = eq[:-1]
        out[:, j] = np.where(prev > 0, eq[1:] / np.where(prev > 0, prev, 1.0) - 1.0, 0.0)
    return out


def buy_hold_returns(data: pl.DataFrame | Mapping[str, pl.DataFrame]) -> np.ndarray:
    """``(T − 1,)`` close-to-close returns of the data (the equal-weight mean of several)."""
    cols = []
    for df in _frames(data).values():
        c = df.get_column("close").cast(pl.Float64).to_numpy()
        cols.append(c[1:] / c[:-1] - 1.0)
    return np.mean(np.vstack(cols), axis=0)
