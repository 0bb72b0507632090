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
from engine.backtest.packing import plan_batch, resolve_batch
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


def _arrays(aligned: Mapping[str, pl.DataFrame]) -> dict[str, np.ndarray]:
    symbols = list(aligned)
    return {c: np.ascontiguousarray(np.stack(
        [aligned[s].get_column(c).cast(pl.Float64).to_numpy() for s in symbols]))
        for c in ("open", "high", "low", "close")}


def _simulate(arrays: Mapping[str, np.ndarray], sig: np.ndarray, strat, p: Mapping[str, Any],
              settings: BacktestSettings, max_positions: int, basket: np.ndarray, ppy: float):
    """The shared account over every symbol's signals: (metrics row, trade records, number
    of trades, equity, positions open per bar)."""
    sl, tp, size = trade_levels(strat, p, settings)
    if size <= 0:
        size = 1.0 / max_positions
    eq = np.empty(sig.shape[1])
    pos = np.empty(sig.shape)
    stats = np.zeros(N_STATS)
    records = new_trades(int(np.count_nonzero(sig)) + sig.shape[0])
    n_tr = simulate_portfolio_nb(
        arrays["open"], arrays["high"], arrays["low"], arrays["close"], sig,
        settings.allow_short, sl, tp, size, max_positions, float(settings.cash),
        float(settings.commission), not settings.fractional, eq, pos, stats, records,
    )
    npos = np.count_nonzero(pos, axis=0).astype(np.float64)
    mrow = np.empty(N_KERNEL_METRICS)
    kernel.metrics_nb(eq, npos, stats, float(settings.cash), basket, ppy, mrow)
    return mrow, records, n_tr, eq, npos


def _max_positions(p: Mapping[str, Any], n_symbols: int, given: int | None) -> int:
    m = int(p.get("max_positions", n_symbols)) if given is None else given
    if m < 1:
        raise ParameterError(f"max_positions must be >= 1, got {m}")
    return m


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
    max_positions = _max_positions(p, len(frames), max_positions)
    aligned = align_frames(frames)
    symbols = list(aligned)
    arrays = _arrays(aligned)
    sig = np.ascontiguousarray(np.stack([compute_signals(aligned[s], strat, p) for s in symbols]))
    ts = aligned[symbols[0]].get_column("timestamp")
    basket = (arrays["close"] / arrays["close"][:, :1]).mean(axis=0)
    ppy = periods_per_year(ts)
    mrow, records, n_tr, eq, npos = _simulate(arrays, sig, strat, p, settings, max_positions,
                                              basket, ppy)
    return BacktestResult(
        strategy=strat.name,
        params={**p, "max_positions": max_positions} if "max_positions" in p else p,
        settings=settings,
        metrics=metrics_dict(mrow, ppy),
        trades=trades_frame(records[:n_tr], ts, symbols),
        equity=equity_frame(ts, basket, eq, npos, settings.cash * basket),
        signals=sig,
    )


class PortfolioBatch:
    """Metrics of many parameter sets of one strategy on one aligned set of symbols, with an
    indicator bank per symbol kept across calls (an evolution's portfolio windows).

    What :func:`engine.backtest.run_batch` is for one symbol: each distinct indicator of a
    call is computed once per symbol (and kept for the next call, bounded by
    ``cache_bytes``), every parameter set's signals come from the bank through the compiled
    signal kernel, and the account runs the same compiled portfolio step as
    :func:`run_portfolio`, so ``metrics(sets)[i] == run_portfolio(frames, strategy, sets[i],
    settings).metrics`` exactly (a test checks it).
    """

    def __init__(self, frames: Mapping[str, pl.DataFrame], strategy: str,
                 settings: BacktestSettings | None = None, *,
                 cache_bytes: int = 256 * 1024 * 1024) -> None:
        from engine.backtest.bank import IndicatorBank

        if len(frames) < 1:
            raise ParameterError("a portfolio needs at least one symbol")
        self.settings = settings or BacktestSettings()
        self.strat = get_strategy(strategy)
        self.aligned = align_frames(frames)
        self.symbols = list(self.aligned)
        self.arrays = _arrays(self.aligned)
        self.cv = [(np.require(df.get_column("close").cast(pl.Float64).to_numpy(), np.float64,
                               ("C", "W")),
                    np.require(df.get_column("volume").cast(pl.Float64).to_numpy(), np.float64,
                               ("C", "W"))) for df in self.aligned.values()]
        ts = self.aligned[self.symbols[0]].get_column("timestamp")
        self.basket = (self.arrays["close"] / self.arrays["close"][:, :1]).mean(axis=0)
        self.ppy = periods_per_year(ts)
        self.cache_bytes = cache_bytes
        self._new_bank = IndicatorBank.build
        self.banks = [IndicatorBank.build(df, []) for df in self.aligned.values()]

    def metrics(self, param_sets, *, validated: bool = False) -> list[dict[str, float | int]]:
        """One ``backtest`` metrics dict per parameter set, in order (``validated``: as
        :func:`engine.backtest.run_batch`)."""
        strat = self.strat
        resolved, cols = resolve_batch(strat, param_sets, validated=validated)
        if not resolved:
            return []
        n_bars = self.arrays["close"].shape[1]
        plan = plan_batch(strat, resolved, cols, self.settings)  # the same for every symbol
        packs = []
        for j, df in enumerate(self.aligned.values()):
            if len(self.banks[j]) * n_bars * 8 > self.cache_bytes:
                self.banks[j] = self._new_bank(df, [])  # bounded: restart the cache
            bank = self.banks[j]
            packs.append(plan.pack(lambda keys, b=bank, d=df: b.rows_of(d, keys)))
        vals = packs[0].vals
        out = []
        sig = np.empty((len(self.symbols), n_bars), np.int8)
        for i, p in enumerate(resolved):
            for j, bank in enumerate(self.banks):
                c, v = self.cv[j]
                kernel.signals_nb(strat.kernel_id, bank.matrix, packs[j].rows[i], vals[i], c,
                                  v, sig[j])
            m = _max_positions(p, len(self.symbols), None)
            mrow = _simulate(self.arrays, sig, strat, p, self.settings, m, self.basket,
                             self.ppy)[0]
            out.append(metrics_dict(mrow, self.ppy))
        return out
