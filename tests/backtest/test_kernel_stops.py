"""Execution rules of ARCHITECTURE.md ("Execution semantics of the backtester"), checked on tiny
hand-computed frames: stop-loss and take-profit: levels, which comes first, entry bar, re-entry.
Expected numbers are worked out by hand in the comments (helpers in ``kernel_scenarios.py``).
"""

from __future__ import annotations

import math

import pytest

from tests.backtest.kernel_scenarios import approx, sim

# ----------------------------------------------------------------------------------------
# 3. stop-loss and take-profit
# ----------------------------------------------------------------------------------------
O4 = [100, 100, 100, 100]


@pytest.mark.parametrize(
    "bar2, exit_price, reason",
    [
        # (open, high, low, close) of bar 2 for a long entered at 100 (bar 1), sl 5 %, tp 10 %
        ((99, 100, 94, 96), 95.0, "stop_loss"),        # low <= 95: fills at the stop
        ((90, 91, 88, 89), 90.0, "stop_loss"),         # gap below the stop: fills at the open
        ((105, 111, 104, 106), 110.0, "take_profit"),  # high >= 110: fills at the target
        ((115, 118, 114, 116), 115.0, "take_profit"),  # gap above the target: the open
        ((100, 111, 94, 105), 95.0, "stop_loss"),      # both in one bar: stop-loss wins
        ((100, 110, 95, 100), 95.0, "stop_loss"),      # both touched exactly: stop-loss
        ((100, 109.99, 95.01, 100), None, "end"),      # neither quite touched
    ],
)
def test_long_stops(bar2, exit_price, reason):
    o2, h2, l2, c2 = bar2
    o = [100, 100, o2, 100]
    c = [100, 100, c2, 100]
    h = [100.5, 100.5, h2, 100.5]
    low = [99.5, 99.5, l2, 99.5]
    trades, eq, _, _ = sim(o, c, [1, 0, 0, 0], h, low, sl=0.05, tp=0.10, cash=1000)
    assert len(trades) == 1
    tr = trades[0]
    assert tr["entry_bar"] == 1 and tr["entry_price"] == 100 and tr["size"] == 10
    assert tr["reason"] == reason
    if exit_price is None:
        assert tr["exit_bar"] == 3 and tr["exit_price"] == 100
    else:
        assert tr["exit_bar"] == 2 and tr["exit_price"] == approx(exit_price)
        assert tr["pnl"] == approx(10 * (exit_price - 100))
        assert eq[2] == approx(1000 + 10 * (exit_price - 100)) == eq[3]


@pytest.mark.parametrize(
    "bar2, exit_price, reason",
    [
        # short entered at 100 (bar 1), sl 5 % → 105, tp 10 % → 90
        ((101, 106, 100, 104), 105.0, "stop_loss"),
        ((107, 108, 106, 107), 107.0, "stop_loss"),    # gap above the stop: the open
        ((95, 96, 89, 92), 90.0, "take_profit"),
        ((85, 86, 84, 85), 85.0, "take_profit"),       # gap below the target: the open
        ((100, 106, 89, 100), 105.0, "stop_loss"),     # both: stop-loss wins
    ],
)
def test_short_stops_mirrored(bar2, exit_price, reason):
    o2, h2, l2, c2 = bar2
    o = [100, 100, o2, 100]
    c = [100, 98, c2, 100]
    h = [100.5, 100.5, h2, 100.5]
    low = [99.5, 97.5, l2, 99.5]
    trades, eq, pos, _ = sim(o, c, [-1, 0, 0, 0], h, low, short=True, sl=0.05, tp=0.10)
    tr = trades[0]
    assert tr["size"] == -10 and tr["entry_price"] == 100 and tr["entry_bar"] == 1
    assert pos[1] == -10 and eq[1] == approx(1000 + 10 * 2)  # short gains 2 per unit
    assert (tr["reason"], tr["exit_bar"]) == (reason, 2)
    assert tr["exit_price"] == approx(exit_price)
    assert tr["pnl"] == approx(-10 * (exit_price - 100))


def test_stops_not_active_on_entry_bar():
    # bar 1 (entry bar, fill at its open 100) spans 80..130: neither stop counts there
    o = [100, 100, 100, 100]
    c = [100, 100, 100, 101]
    h = [100.5, 130, 100.5, 101.5]
    low = [99.5, 80, 99.5, 99.5]
    trades, _, _, _ = sim(o, c, [1, 0, 0, 0], h, low, sl=0.05, tp=0.10)
    assert [t["reason"] for t in trades] == ["end"]
    # a short entered by reversal at bar 2's open on a wild bar is not stopped on that bar
    # either (and the long, closed at that open, is gone before the bar's range counts)
    h = [100.5, 100.5, 130, 101.5]
    low = [99.5, 99.5, 80, 99.5]
    trades, _, _, _ = sim(o, c, [1, -1, 0, 0], h, low, short=True, sl=0.05, tp=0.10)
    assert [(t["reason"], t["entry_bar"], t["exit_bar"], t["exit_price"]) for t in trades] == [
        ("signal", 1, 2, 100.0), ("end", 2, 3, 101.0)]


def test_stop_levels_are_fractions_of_the_actual_fill():
    # signal close 50, but the fill (bar 1 open) is 60: stop at 60·0.9 = 54, not 45
    o = [50, 60, 58, 50]
    c = [50, 59, 55, 50]
    h = [50.5, 60.5, 58.5, 50.5]
    low = [49.5, 58.5, 53.9, 49.5]
    trades, _, _, _ = sim(o, c, [1, 0, 0, 0], h, low, sl=0.10)
    assert trades[0]["reason"] == "stop_loss" and trades[0]["exit_price"] == approx(54.0)
    assert trades[0]["exit_bar"] == 2


def test_pending_exit_order_fills_at_open_before_stops():
    # exit signal at bar 1; bar 2 opens at 99 (above the stop) and then trades down to 90:
    # the market order fills at the open first, so the exit is a signal exit at 99.
    o = [100, 100, 99, 99]
    c = [100, 100, 92, 99]
    h = [100.5, 100.5, 99.5, 99.5]
    low = [99.5, 99.5, 90, 98.5]
    trades, _, _, _ = sim(o, c, [1, -1, 0, 0], h, low, sl=0.05)
    assert [(t["reason"], t["exit_bar"], t["exit_price"]) for t in trades] == [
        ("signal", 2, 99.0)]


def test_reentry_after_stop_on_next_signal():
    # level signal stays +1: stopped out on bar 2, re-enters at bar 3's open
    o = [100, 100, 99, 90, 91]
    c = [100, 100, 93, 91, 92]
    h = [100.5, 100.5, 99.5, 91.5, 92.5]
    low = [99.5, 99.5, 92, 89.5, 90.5]
    trades, _, _, _ = sim(o, c, [1, 1, 1, 1, 1], h, low, sl=0.05)
    assert [(t["reason"], t["entry_bar"], t["exit_bar"]) for t in trades] == [
        ("stop_loss", 1, 2), ("end", 3, 4)]
    assert trades[0]["exit_price"] == 95 and trades[1]["entry_price"] == 90
    assert trades[1]["size"] == math.floor(950 / 90)
