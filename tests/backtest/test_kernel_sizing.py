"""Execution rules of ARCHITECTURE.md ("Execution semantics of the backtester"), checked on tiny
hand-computed frames: commission, position sizing, long/short and reversals. Expected numbers
are worked out by hand in the comments (helpers in ``kernel_scenarios.py``).
"""

from __future__ import annotations

import math

import pytest

from tests.backtest.kernel_scenarios import approx, kernel_metrics, sim


# ----------------------------------------------------------------------------------------
# 4. commission and sizing
# ----------------------------------------------------------------------------------------
def test_commission_charged_on_entry_and_exit():
    o = [100, 100, 105, 110, 110]
    c = [100, 102, 108, 110, 110]
    trades, eq, _, _ = sim(o, c, [1, 0, -1, 0, 0], comm=0.01, cash=1000)
    # units floor(1000 / (100·1.01)) = 9; entry commission 9 → cash 1000 - 900 - 9 = 91
    # exit at 110: commission 9.9 → cash 91 + 990 - 9.9 = 1071.1; pnl 90 - 9 - 9.9 = 71.1
    (tr,) = trades
    assert tr["size"] == 9
    assert tr["commission"] == approx(18.9)
    assert tr["pnl"] == approx(71.1)
    assert eq[1] == approx(91 + 9 * 102)
    assert eq[3] == approx(1071.1) and eq[4] == approx(1071.1)


def test_commission_on_stop_exit_and_short():
    o = [100, 100, 100, 100]
    c = [100, 100, 100, 100]
    h = [100.5, 100.5, 106, 100.5]
    low = [99.5, 99.5, 99.5, 99.5]
    trades, eq, _, _ = sim(o, c, [-1, 0, 0, 0], h, low, short=True, sl=0.05, comm=0.002)
    # units floor(1000/(100·1.002)) = 9; short stopped at 105
    (tr,) = trades
    assert tr["size"] == -9 and tr["reason"] == "stop_loss"
    comm = 9 * 100 * 0.002 + 9 * 105 * 0.002
    assert tr["commission"] == approx(comm)
    assert tr["pnl"] == approx(-9 * 5 - comm)
    assert eq[-1] == approx(1000 - 45 - comm)


@pytest.mark.parametrize(
    "cash, price, comm, units",
    [
        (1000, 100, 0.0, 10),        # exact multiple: all of it
        (1000, 100, 0.001, 9),       # 1000/100.1 = 9.99 → 9
        (999.99, 100, 0.0, 9),
        (1000, 3, 0.0, 333),
        (1000, 7, 0.002, 142),       # 1000/7.014 = 142.57
        (50, 60, 0.0, 0),            # cannot afford one unit: no trade
    ],
)
def test_all_in_whole_units(cash, price, comm, units):
    trades, eq, pos, _ = sim([price] * 3, [price] * 3, [1, 0, 0], cash=cash, comm=comm)
    assert units == math.floor(cash / (price * (1 + comm)))
    if units == 0:
        assert trades == [] and pos.tolist() == [0, 0, 0] and eq[-1] == cash
    else:
        assert trades[0]["size"] == units and pos[1] == units
        assert eq[1] == approx(cash - units * price * comm)


def test_size_fraction_of_equity():
    # size 0.5: floor(0.5·1000/30) = 16; exit at 40 → equity 1160;
    # second entry at 50: floor(0.5·1160/50) = 11
    o = [30, 30, 40, 40, 50, 50]
    c = [30, 30, 40, 40, 50, 55]
    trades, eq, _, _ = sim(o, c, [1, -1, 0, 1, 0, 0], size=0.5, cash=1000)
    assert [t["size"] for t in trades] == [16, 11]
    assert trades[0]["pnl"] == 160
    assert eq[3] == 1160
    assert eq[5] == approx(1160 + 11 * 5)


def test_size_fraction_with_commission():
    trades, _, _, _ = sim([30] * 3, [30] * 3, [1, 0, 0], size=0.25, cash=1000, comm=0.01)
    assert trades[0]["size"] == math.floor(250 / (30 * 1.01))  # 8


def test_fractional_units():
    trades, eq, pos, _ = sim([100, 100, 110], [100, 105, 110], [1, 0, 0], cash=1000,
                             comm=0.001, whole=False)
    units = 1000 / (100 * 1.001)
    assert trades[0]["size"] == pytest.approx(units, rel=1e-15)
    # all of the cash is used: entry notional + commission = 1000
    assert eq[1] == approx(units * 105)
    assert trades[0]["pnl"] == approx(units * 10 - units * 100 * 0.001)


# ----------------------------------------------------------------------------------------
# 5. long/short and reversals
# ----------------------------------------------------------------------------------------
def test_short_position_equity_mirrored():
    o = [100, 100, 95, 90]
    c = [100, 98, 94, 90]
    trades, eq, pos, _ = sim(o, c, [-1, 0, 1, 0], short=True, cash=1000)
    # short 10 at 100 (bar 1); +1 at bar 2 → cover at bar 3's open 90 and go long
    # floor(1100/90) = 12 units
    assert pos.tolist() == [0, -10, -10, 12]
    assert eq.tolist() == [1000, 1020, 1060, 1100]
    assert [(t["size"], t["reason"], t["pnl"]) for t in trades] == [
        (-10, "signal", 100.0), (12, "end", 0.0)]


def test_reversal_on_opposite_signal_same_open():
    o = [10, 10, 12, 15, 13, 11]
    c = [10, 11, 14, 14, 12, 10]
    trades, eq, pos, _ = sim(o, c, [1, 0, -1, 0, 0, 0], short=True, cash=1000)
    # long 100 @10 (bar 1), reversed at bar 3's open 15: +500, cash 1500 → short 100 @15
    assert [(t["entry_bar"], t["exit_bar"], t["size"], t["entry_price"], t["exit_price"],
             t["reason"]) for t in trades] == [
        (1, 3, 100, 10, 15, "signal"), (3, 5, -100, 15, 10, "end")]
    assert trades[0]["pnl"] == 500 and trades[1]["pnl"] == 500
    assert eq.tolist() == [1000, 1100, 1400, 1600, 1800, 2000]


def test_reversal_with_commission():
    o = [10, 10, 12, 15, 15]
    c = [10, 11, 14, 15, 15]
    trades, eq, _, _ = sim(o, c, [1, 0, -1, 0, 0], short=True, cash=1000, comm=0.01)
    # long floor(1000/10.1)=99 @10: comm 9.9, cash 0.1; exit @15: comm 14.85
    # cash 0.1 + 1485 - 14.85 = 1470.25 → short floor(1470.25/15.15) = 97, comm 14.55
    assert [t["size"] for t in trades] == [99, -97]
    assert trades[0]["pnl"] == approx(99 * 5 - 9.9 - 14.85)
    assert trades[1]["pnl"] == approx(-14.55)       # open at the end: entry commission only
    assert eq[-1] == approx(1470.25 - 14.55)


def test_long_only_ignores_short_signal_but_exits():
    trades, _, pos, _ = sim([10, 10, 12, 15, 15], [10, 11, 14, 15, 15], [1, 0, -1, 0, 0],
                            short=False)
    assert pos.tolist() == [0, 100, 100, 0, 0]
    assert [t["reason"] for t in trades] == ["signal"]


def test_short_wiped_out_is_liquidated_at_the_close_and_stops():
    o = [100, 100, 150, 210, 200, 190]
    c = [100, 150, 205, 210, 200, 190]
    trades, eq, pos, stats = sim(o, c, [-1, 0, 0, 1, 0, 0], short=True, cash=1000)
    # short 10 @100 (cash 2000); close 150 → equity 500; close 205 → -50 <= 0: liquidated
    # at that close (pnl -1050), equity 0 from then on, the later +1 never trades
    assert [(t["entry_bar"], t["exit_bar"], t["exit_price"], t["size"], t["pnl"], t["reason"])
            for t in trades] == [(1, 2, 205.0, -10.0, -1050.0, "stop_loss")]
    assert eq.tolist() == [1000, 500, 0, 0, 0, 0]
    assert pos.tolist() == [0, -10, 0, 0, 0, 0]
    m = kernel_metrics(eq, pos, stats, 1000, c)
    assert m["final_equity"] == 0 and m["total_return_pct"] == -100
    assert m["max_drawdown_pct"] == -100 and m["n_trades"] == 1
