"""The backtester's loop run bar by bar with carried state equals one whole backtest."""

import numpy as np
import polars as pl
import pytest

from engine.backtest import BacktestSettings, run_backtest
from engine.backtest.enums import EXIT_REASONS, P_SIZE
from engine.backtest.resumable import CarriedState, run_bars
from engine.backtest.runner import ohlcv_arrays


@pytest.mark.parametrize("settings", [
    BacktestSettings(),
    BacktestSettings(stop_loss=0.03, take_profit=0.08, commission=0.001, allow_short=True),
    BacktestSettings(size=0.5, commission=0.002, stop_loss=0.05),
])
def test_bar_by_bar_equals_the_backtest(goog, settings):
    ref = run_backtest(goog, "sma_cross", {"fast": 10, "slow": 30}, settings)
    o, h, lo, c, _ = (a.reshape(1, -1).copy() for a in ohlcv_arrays(goog))
    sig = ref.signals.reshape(1, -1).copy()
    state = CarriedState.flat(settings.cash, 1)
    trades, equity = [], []
    for i in range(goog.height):
        out = run_bars(o, h, lo, c, sig, state, i, i + 1, allow_short=settings.allow_short,
                       stop_loss=settings.stop_loss or 0.0,
                       take_profit=settings.take_profit or 0.0, size=settings.size or 0.0,
                       max_positions=1, commission=settings.commission)
        trades.extend(out.trades)
        equity.append(out.equity[0])
    assert np.array_equal(np.array(equity), ref.equity["equity"].to_numpy())
    closed = ref.trades.filter(pl.col("exit_reason") != "end")
    assert len(trades) == closed.height
    for t, row in zip(trades, closed.iter_rows(named=True), strict=True):
        assert EXIT_REASONS[int(t["reason"])] == row["exit_reason"]
        assert (t["entry_price"], t["exit_price"], t["size"], t["pnl"]) == (
            row["entry_price"], row["exit_price"], row["size"], row["pnl"])
    if ref.trades.height and ref.trades["exit_reason"][-1] == "end":
        assert state.pos[0, P_SIZE] == ref.trades["size"][-1]


def test_a_zero_entry_scale_vetoes_the_entry_but_not_the_exit(goog):
    o, h, lo, c, _ = (a.reshape(1, -1)[:, :5].copy() for a in ohlcv_arrays(goog))
    sig = np.array([[1, 0, -1, 1, 0]], np.int8)
    state = CarriedState.flat(10_000.0, 1)
    kw = dict(allow_short=False, stop_loss=0.0, take_profit=0.0, size=0.0, max_positions=1,
              commission=0.0)
    run_bars(o, h, lo, c, sig, state, 0, 3, **kw)  # bought at the open of bar 1
    assert state.pos[0, P_SIZE] == np.floor(10_000.0 / o[0, 1])
    out = run_bars(o, h, lo, c, sig, state, 3, 4, **kw)  # sold at bar 3's open
    assert out.trades.shape[0] == 1 and state.pos[0, P_SIZE] == 0.0
    run_bars(o, h, lo, c, sig, state, 4, 5, entry_scale=np.zeros(1), **kw)  # veto
    assert state.pos[0, P_SIZE] == 0.0
    run_bars(o, h, lo, c, sig, state, 4, 5, entry_cap=np.array([1000.0]), **kw)
    assert state.pos[0, P_SIZE] == np.floor(1000.0 / o[0, 4])  # capped at 1000 USD
