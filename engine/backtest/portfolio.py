"""Multi-symbol portfolio backtest: one cash account, at most ``max_positions`` open.

Each symbol gets the strategy's signals computed on its own bars with the same parameters.
The frames are aligned on the timestamps they all share (an inner join — a bar missing in
one symbol is dropped for all, and a warning says how many). Every bar then runs the same
compiled step as a single backtest (:mod:`engine.backtest.step`), so a one-symbol portfolio
equals :func:`~engine.backtest.run_backtest` exactly. Per bar, symbols always taken in the
order they were given (that order is the tie-break when several signal on one bar):

1. pending exits fill at the open;
2. pending entries fill at the open while fewer than ``max_positions`` positions are open,
   each sized ``size`` of the equity marked at that open (default ``1/max_positions``; a long
   never spends more cash than the account holds) — so with ``max_positions=1`` and two
   symbols signalling on the same bar, the one given first is bought and the other's signal
   is dropped (not queued; a symbol that cannot afford one unit leaves the slot to the next);
3. stop-loss/take-profit of positions entered before this bar, as in a single backtest;
4. equity marked at the close; if it is wiped out, every position is liquidated at the close.

The ``position`` column of the equity frame is the number of positions open at each close.
Buy-and-hold is the equal-weight basket.

Since the shared step (issue 8) the rules above are unchanged from the earlier, separate
portfolio kernel; the one numeric difference is that equity at a close is now
``cash + Σ size·close`` (positions summed first, then cash) rather than cash accumulated
symbol by symbol, which can move a multi-symbol equity curve in its last binary digit.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from engine.backtest import kernel
from engine.backtest.enums import N_KERNEL_METRICS, N_STATS, new_trades
from engine.backtest.metrics import metrics_dict, periods_per_year
from engine.backtest.portfolio_kernel import simulate_portfolio_nb
from engine.backtest.results import BacktestResult, BacktestSettings, equity_frame, trades_frame
from engine.backtest.runner import compute_signals, trade_levels
from engine.backtest.strategies import get_strategy
from engine.errors import DataError, ParameterError


def align_frames(frames: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Keep only the timestamps every frame has (warns when bars are dropped)."""
    common = None
    for df in frames.values():
        ts = df.select("timestamp")
        common = ts if common is None else common.join(ts, on="timestamp", how="inner")
    if common is None or common.height < 2:
        raise DataError(
            "the symbols share fewer than 2 timestamps; pick datasets that overlap in time"
        )
    out = {sym: df.join(common, on="timestamp", how="semi") for sym, df in frames.items()}
    dropped = max(df.height for df in frames.values()) - common.height
    if dropped:
        warnings.warn(f"portfolio: {dropped} bars not shared by every symbol were dropped",
                      stacklevel=3)
    return out


def run_portfolio(
    frames: Mapping[str, pl.DataFrame],
    strategy: str,
    params: Mapping[str, Any] | None = None,
    settings: BacktestSettings | None = None,
    *,
    max_positions: int | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on several symbols sharing one account.

    For ``genome`` the gene ``max_positions`` applies unless ``max_positions`` is given.
    """
    if len(frames) < 1:
        raise ParameterError("a portfolio needs at least one symbol")
    settings = settings or BacktestSettings()
    strat = get_strategy(strategy)
    p = strat.resolve(params)
    if max_positions is None:
        max_positions = int(p.get("max_positions", len(frames)))
    if max_positions < 1:
        raise ParameterError(f"max_positions must be >= 1, got {max_positions}")
    aligned = align_frames(frames)
    symbols = list(aligned)
    arrays = {c: np.ascontiguousarray(np.stack(
        [aligned[s].get_column(c).cast(pl.Float64).to_numpy() for s in symbols]))
        for c in ("open", "high", "low", "close")}
    sig = np.ascontiguousarray(np.stack([compute_signals(aligned[s], strat, p) for s in symbols]))
    sl, tp, size = trade_levels(strat, p, settings)
    if size <= 0:
        size = 1.0 / max_positions
    eq = np.empty(sig.shape[1])
    pos = np.empty(sig.shape)
    stats = np.zeros(N_STATS)
    records = new_trades(int(np.count_nonzero(sig)) + len(symbols))
    n_tr = simulate_portfolio_nb(
        arrays["open"], arrays["high"], arrays["low"], arrays["close"], sig,
        settings.allow_short, sl, tp, size, max_positions, float(settings.cash),
        float(settings.commission), not settings.fractional, eq, pos, stats, records,
    )
    npos = np.count_nonzero(pos, axis=0).astype(np.float64)
    ts = aligned[symbols[0]].get_column("timestamp")
    basket = (arrays["close"] / arrays["close"][:, :1]).mean(axis=0)
    ppy = periods_per_year(ts)
    mrow = np.empty(N_KERNEL_METRICS)
    kernel.metrics_nb(eq, npos, stats, float(settings.cash), basket, ppy, mrow)
    return BacktestResult(
        strategy=strat.name,
        params={**p, "max_positions": max_positions} if "max_positions" in p else p,
        settings=settings,
        metrics=metrics_dict(mrow, ppy),
        trades=trades_frame(records[:n_tr], ts, symbols),
        equity=equity_frame(ts, basket, eq, npos, settings.cash * basket),
        signals=sig,
    )
