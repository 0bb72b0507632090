"""Execution rules of ARCHITECTURE.md ("Execution semantics of the backtester"), checked on tiny
hand-computed frames: when orders fill: at the next open, never during warm-up, and what a
position open at the end of the data is. Expected numbers are worked out by hand in the comments
(helpers in ``kernel_scenarios.py``).
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from engine.backtest import BacktestSettings, run_backtest
from tests.backtest.kernel_scenarios import approx, frame, sim


# ----------------------------------------------------------------------------------------
# 1. fills at the next open
# ----------------------------------------------------------------------------------------
def test_signal_fills_at_next_open():
    o = [10, 11, 12, 13, 14]
    c = [10.5, 11.5, 12.5, 13.5, 14.5]
    trades, eq, pos, _ = sim(o, c, [1, 0, -1, 0, 0], cash=1000)
    # buy at the open of bar 1 (11): floor(1000/11) = 90 units, cash 10;
    # sell at the open of bar 3 (13): pnl 90·2 = 180
    assert trades == [dict(entry_bar=1, exit_bar=3, entry_price=11.0, exit_price=13.0,
                           size=90.0, pnl=180.0, reason="signal", commission=0.0)]
    assert eq.tolist() == [1000, 10 + 90 * 11.5, 10 + 90 * 12.5, 1180, 1180]
    assert pos.tolist() == [0, 90, 90, 0, 0]


def test_signal_on_last_bar_never_fills():
    trades, eq, pos, _ = sim([10, 11, 12], [10, 11, 12], [0, 0, 1])
    assert trades == [] and eq.tolist() == [1000] * 3 and pos.tolist() == [0] * 3


def test_repeated_long_signal_does_not_pyramid():
    trades, _, pos, _ = sim([10, 10, 10, 10, 10], [10, 10, 10, 10, 10], [1, 1, 1, 1, 0])
    assert len(trades) == 1 and trades[0]["reason"] == "end" and trades[0]["entry_bar"] == 1
    assert pos.tolist() == [0, 100, 100, 100, 100]


def test_exit_signal_when_flat_is_ignored_in_long_only():
    trades, eq, pos, _ = sim([10] * 5, [10] * 5, [-1, -1, 0, 0, 0], short=False)
    assert trades == [] and pos.tolist() == [0] * 5 and eq.tolist() == [1000] * 5


# ----------------------------------------------------------------------------------------
# 2. no trade during warm-up (strategies on crafted prices)
# ----------------------------------------------------------------------------------------
def test_sma_cross_needs_both_bars_defined():
    # fast=1 (the close), slow=3: slow defined from bar 2, a cross at t needs t-1 >= 2.
    # At bar 2 the close (12) is above SMA3 (10) after a fall, but SMA3 at bar 1 is
    # undefined, so that is no cross: the first possible signal is at bar 3.
    c = [10, 8, 12, 9, 13, 14, 15]
    res = run_backtest(frame(c, c), "sma_cross", {"fast": 1, "slow": 3})
    sma3 = [np.nan, np.nan, 10, 29 / 3, 34 / 3, 12, 14]
    # close vs sma3: bar2 12>10, bar3 9<9.67 (cross down), bar4 13>11.33 (cross up)
    assert res.signals.tolist() == [0, 0, 0, -1, 1, 0, 0]
    assert not np.isnan(sma3[2])
    t = res.trades
    assert t["entry_time"].to_list() == [datetime(2024, 1, 6)]  # filled at bar 5's open
    assert t["exit_reason"].to_list() == ["end"]


def test_rsi_defined_from_bar_n_and_not_before():
    # Falling closes: every change is a loss, so RSI(3) = 0 from bar 3 (first n changes).
    c = [20, 19, 18, 17, 16, 15, 14]
    res = run_backtest(frame(c, c), "rsi", {"period": 3, "oversold": 30, "overbought": 70})
    assert res.signals.tolist() == [0, 0, 0, 1, 1, 1, 1]
    t = res.trades
    assert len(t) == 1
    assert t["entry_time"][0] == datetime(2024, 1, 5)  # bar 4's open
    assert t["entry_price"][0] == 16.0


def test_no_signal_at_all_while_indicators_undefined():
    c = list(np.linspace(100, 50, 30))  # a steady fall: level rules fire as soon as defined
    for strategy, params, warm, first in [
        ("sma_cross", {"fast": 5, "slow": 20}, 20, 0),     # cross at t needs slow[t-1]
        ("rsi", {"period": 14, "oversold": 30, "overbought": 70}, 14, 1),  # RSI from bar n
        ("bollinger", {"period": 10, "std": 0.1}, 9, 1),   # bands from bar n-1
        ("macd", {"fast": 3, "slow": 6, "signal": 4}, 9, 0),  # signal line from bar 5+3=8
    ]:
        res = run_backtest(frame(c, c), strategy, params)
        assert not res.signals[:warm].any(), strategy
        assert res.signals[warm] == first, strategy

# ----------------------------------------------------------------------------------------
# 6. a position open at the end
# ----------------------------------------------------------------------------------------
def test_open_position_at_end():
    o = [20, 20, 22, 24]
    c = [20, 21, 23, 25]
    trades, eq, _, _ = sim(o, c, [1, 0, 0, 0], cash=1000, comm=0.01)
    # floor(1000/20.2) = 49 units @20, entry commission 9.8, cash 1000 - 980 - 9.8 = 10.2
    (tr,) = trades
    assert tr["reason"] == "end" and tr["exit_bar"] == 3 and tr["exit_price"] == 25
    assert tr["pnl"] == approx(49 * 5 - 9.8)      # no exit commission
    assert tr["commission"] == approx(9.8)
    assert eq[-1] == approx(10.2 + 49 * 25)       # mark to market at the last close


def test_open_position_at_end_through_run_backtest():
    c = [20, 19, 18, 17, 16, 17, 18]
    res = run_backtest(frame(c, c), "rsi", {"period": 3, "oversold": 30, "overbought": 70},
                       BacktestSettings(cash=1000, commission=0.001))
    t = res.trades
    assert t["exit_reason"].to_list() == ["end"]
    assert t["exit_time"][0] == datetime(2024, 1, 7) and t["exit_price"][0] == 18
    units = math.floor(1000 / (16 * 1.001))
    assert t["size"][0] == units and t["entry_price"][0] == 16
    assert t["pnl"][0] == approx(units * 2 - units * 16 * 0.001)
    assert res.metrics["final_equity"] == approx(1000 - units * 16 * 1.001 + units * 18)
    assert res.metrics["n_trades"] == 1
