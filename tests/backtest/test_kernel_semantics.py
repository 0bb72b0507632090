"""Every execution rule of ARCHITECTURE.md ("Execution semantics of the backtester"),
checked on tiny hand-computed frames.

Most tests drive :func:`engine.backtest.kernel.simulate_nb` directly with an ``int8``
signal array (``+1`` wants long, ``-1`` wants out / short, ``0`` nothing; a signal at the
close of bar ``t`` fills at the open of ``t+1``); a few go through ``run_backtest`` with
strategies on crafted prices (warm-up, RSI definition). Expected numbers are worked out by
hand in the comments.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from engine.backtest import BacktestSettings, run_backtest
from engine.backtest import kernel as K
from engine.backtest.enums import (
    EXIT_REASONS,
    KERNEL_METRICS,
    N_KERNEL_METRICS,
    N_STATS,
    new_trades,
)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def bars(o, c, h=None, lo=None):
    """OHLC arrays; high/low default to 0.5 outside max/min(open, close) (no stop hits)."""
    o = np.asarray(o, float)
    c = np.asarray(c, float)
    h = np.maximum(o, c) + 0.5 if h is None else np.asarray(h, float)
    lo = np.minimum(o, c) - 0.5 if lo is None else np.asarray(lo, float)
    assert (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()
    return o, h, lo, c


def sim(o, c, sig, h=None, lo=None, *, short=False, sl=0.0, tp=0.0, size=0.0, cash=1000.0,
        comm=0.0, whole=True):
    """Run the kernel; return (trades as dicts, equity, position, stats)."""
    o, h, lo, c = bars(o, c, h, lo)
    sig = np.asarray(sig, np.int8)
    assert sig.shape == c.shape
    eq = np.empty_like(c)
    pos = np.empty_like(c)
    stats = np.zeros(N_STATS)
    rec = new_trades(np.count_nonzero(sig) + 1)
    n_tr = K.simulate_nb(o, h, lo, c, sig, short, float(sl), float(tp), float(size), float(cash),
                         float(comm), whole, eq, pos, stats, True, rec)
    trades = [
        {
            "entry_bar": int(r["entry_bar"]),
            "exit_bar": int(r["exit_bar"]),
            "entry_price": float(r["entry_price"]),
            "exit_price": float(r["exit_price"]),
            "size": float(r["size"]),
            "pnl": float(r["pnl"]),
            "reason": EXIT_REASONS[int(r["reason"])],
            "commission": float(r["commission"]),
        }
        for r in rec[:n_tr]
    ]
    return trades, eq, pos, stats


def kernel_metrics(eq, pos, stats, cash, c, ppy=252.0):
    out = np.empty(N_KERNEL_METRICS)
    K.metrics_nb(eq, pos, stats, float(cash), np.asarray(c, float), float(ppy), out)
    return dict(zip(KERNEL_METRICS, out.tolist(), strict=True))


def frame(o, c, h=None, lo=None, volume=None):
    o, h, lo, c = bars(o, c, h, lo)
    n = len(c)
    t0 = datetime(2024, 1, 1)
    return pl.DataFrame({
        "timestamp": [t0 + timedelta(days=i) for i in range(n)],
        "open": o, "high": h, "low": lo, "close": c,
        "volume": np.full(n, 1000.0) if volume is None else np.asarray(volume, float),
    }).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))


def approx(x):
    return pytest.approx(x, rel=0, abs=1e-9)


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


# ----------------------------------------------------------------------------------------
# 7. metrics by hand
# ----------------------------------------------------------------------------------------
def test_metrics_by_hand():
    o = [10, 10, 12, 11, 11, 9, 8, 12]
    c = [10, 11, 12, 10, 11, 10, 11, 13]
    sig = [1, 0, -1, 0, 1, -1, 1, 0]
    trades, eq, pos, stats = sim(o, c, sig, cash=100)
    # trade 1: 10 @10 (bar 1) → @11 (bar 3): +10;   cash 110
    # trade 2: floor(110/9)=12 @9 (bar 5) → @8 (bar 6): -12;   cash 98
    # trade 3: floor(98/12)=8 @12 (bar 7), open at the end, close 13: +8
    assert eq.tolist() == [100, 110, 120, 110, 110, 122, 98, 106]
    assert pos.tolist() == [0, 10, 10, 0, 0, 12, 0, 8]
    assert [(t["pnl"], t["reason"]) for t in trades] == [
        (10, "signal"), (-12, "signal"), (8, "end")]
    m = kernel_metrics(eq, pos, stats, 100, c, ppy=252)
    assert m["total_return_pct"] == approx(6.0)
    assert m["final_equity"] == approx(106)
    assert m["max_drawdown_pct"] == approx((98 / 122 - 1) * 100)
    assert m["max_drawdown_duration_bars"] == 2
    assert m["win_rate_pct"] == approx(200 / 3)
    assert m["profit_factor"] == approx(18 / 12)
    assert m["exposure_pct"] == approx(50.0)
    assert m["n_trades"] == 3
    assert m["buy_hold_return_pct"] == approx(30.0)
    assert m["avg_trade_bars"] == approx((2 + 1 + 0) / 3)
    rets = [10 / 100, -12 / 108, 8 / 96]  # per-trade pnl / entry notional
    assert m["avg_trade_pct"] == approx(np.mean(rets) * 100)
    assert m["best_trade_pct"] == approx(max(rets) * 100)
    assert m["worst_trade_pct"] == approx(min(rets) * 100)
    r = np.diff(np.array(eq)) / np.array(eq)[:-1]
    assert m["sharpe"] == approx(r.mean() / r.std(ddof=1) * math.sqrt(252))
    assert m["volatility_ann_pct"] == approx(r.std(ddof=1) * math.sqrt(252) * 100)
    assert m["sortino"] == approx(r.mean() / math.sqrt(np.mean(np.minimum(r, 0) ** 2))
                                  * math.sqrt(252))
    years = 7 / 252
    assert m["cagr_pct"] == approx((1.06 ** (1 / years) - 1) * 100)


def test_metrics_without_trades_and_without_losses():
    c = [10, 11, 12, 13]
    trades, eq, pos, stats = sim(c, c, [0, 0, 0, 0], cash=100)
    m = kernel_metrics(eq, pos, stats, 100, c)
    assert trades == []
    assert (m["n_trades"], m["win_rate_pct"], m["exposure_pct"], m["total_return_pct"],
            m["max_drawdown_pct"]) == (0, 0, 0, 0, 0)
    assert m["buy_hold_return_pct"] == approx(30.0)
    # one winning trade, no loss: profit factor is infinite (reported as null by the CLI)
    trades, eq, pos, stats = sim([10, 10, 12, 13], [10, 11, 12, 13], [1, -1, 0, 0], cash=100)
    m = kernel_metrics(eq, pos, stats, 100, [10, 11, 12, 13])
    assert trades[0]["pnl"] == 20 and m["win_rate_pct"] == 100
    assert m["profit_factor"] == math.inf


def test_run_backtest_metrics_match_hand_numbers():
    """The same hand example through run_backtest (sma_cross signals crafted by prices)."""
    # fast=1, slow=2: cross up when close[t] - close[t-1] flips sign (see the signals below)
    c = [10, 9, 11, 12, 10, 11]
    o = [10, 10, 10, 10, 12, 9]
    res = run_backtest(frame(o, c), "sma_cross", {"fast": 1, "slow": 2},
                       BacktestSettings(cash=100))
    # sma2: -, 9.5, 10, 11.5, 11, 10.5; close - sma2: -, -.5, 1, .5, -1, .5
    assert res.signals.tolist() == [0, 0, 1, 0, -1, 1]
    # long 10 @ open of bar 3 (10); out at bar 5's open (9): pnl -10; the +1 at the last
    # bar never fills
    t = res.trades
    assert t["entry_price"].to_list() == [10.0] and t["exit_price"].to_list() == [9.0]
    assert t["pnl"].to_list() == [-10.0] and t["exit_reason"].to_list() == ["signal"]
    assert res.equity["equity"].to_list() == [100, 100, 100, 120, 100, 90]
    assert res.equity["position"].to_list() == [0, 0, 0, 10, 10, 0]
    m = res.metrics
    assert m["total_return_pct"] == approx(-10.0)
    assert m["win_rate_pct"] == 0 and m["profit_factor"] == 0 and m["n_trades"] == 1
    assert m["exposure_pct"] == approx(100 * 2 / 6)
    assert m["max_drawdown_pct"] == approx((90 / 120 - 1) * 100)
    assert m["buy_hold_return_pct"] == approx(10.0)
