"""Execution rules of ARCHITECTURE.md ("Execution semantics of the backtester"), checked on tiny
hand-computed frames: the kernel's metrics. Expected numbers are worked out by hand in the
comments (helpers in ``kernel_scenarios.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest import BacktestSettings, run_backtest
from engine.backtest.enums import N_STATS
from tests.backtest.kernel_scenarios import approx, frame, kernel_metrics, sim


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


def longest_run(below: np.ndarray) -> int:
    """The longest stretch of consecutive True values (0 when there is none)."""
    best = run = 0
    for b in below:
        run = run + 1 if b else 0
        best = max(best, run)
    return best


# equity on a coarse grid (ties with the running peak are common) or any positive float
EQUITY = st.lists(st.one_of(st.integers(1, 12).map(float),
                            st.floats(1.0, 1e6, allow_nan=False)), min_size=2, max_size=80)


@settings(max_examples=300, deadline=None)
@given(EQUITY)
def test_drawdown_and_dispersion_equal_a_bar_by_bar_reference(values):
    """The kernel finds the drawdown from each fall's trough and sums the dispersion in four
    partial sums; numpy's bar-by-bar drawdown (every bar divided by the running peak) must
    give the same minimum bit for bit, the same longest stretch below the peak, and the same
    volatility and Sortino ratio to rounding."""
    eq = np.array(values)
    m = kernel_metrics(eq, np.zeros_like(eq), np.zeros(N_STATS), eq[0], eq)
    peak = np.maximum.accumulate(eq)
    assert m["max_drawdown_pct"] == min(0.0, float((eq / peak - 1.0).min())) * 100.0
    assert m["max_drawdown_duration_bars"] == longest_run(eq < peak)
    r = eq[1:] / eq[:-1] - 1.0
    if r.size > 1:
        vol = r.std(ddof=1) * math.sqrt(252) * 100
        assert m["volatility_ann_pct"] == pytest.approx(vol, rel=1e-12, abs=1e-12)
    downside = math.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    if downside > 0:
        assert m["sortino"] == pytest.approx(r.mean() / downside * math.sqrt(252), rel=1e-12)
