"""The stitching invariant: the stitched out-of-sample curve is, bar for bar, the chain of
``backtest --trade-start`` runs that switch to each window's genes at its boundary."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import polars as pl
import pytest

from engine.backtest import BacktestSettings, run_backtest
from engine.cli import main
from engine.walkforward import WindowSpan, run_walkforward, stitched_curve
from engine.walkforward.stitching import efficiency, gene_stability, stitch

COMMISSION = 0.001


def cli_backtest(capsys, path, genes, *, end, trade_start, cash):
    """``backtest --trade-start`` through the command line, as a user would run it."""
    argv = ["backtest", "--data", path, "--strategy", "genome", "--end", end,
            "--trade-start", trade_start, "--cash", repr(cash), "--commission",
            str(COMMISSION), "--json", "--no-save"]
    for k, v in genes.items():
        argv += ["--param", f"{k}={v!r}"]
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_stitched_curve_equals_the_switching_trade_start_backtests(small, goog_path, goog,
                                                                    capsys):
    info = run_walkforward(small(commission=COMMISSION))
    st = stitched_curve(info.id)
    cash = 10_000.0
    for w in info.windows:
        seg = st.equity.filter(pl.col("window") == w.window)
        doc = cli_backtest(capsys, goog_path, w.genes, end=w.oos_end.isoformat(),
                           trade_start=w.oos_start.isoformat(), cash=cash)
        # the window's last stitched value is that backtest's final equity, exactly
        assert seg.get_column("equity")[-1] == doc["metrics"]["final_equity"]
        # and every bar of the window equals that backtest's equity on the same bars
        full = run_backtest(goog.filter(pl.col("timestamp") <= w.oos_end), "genome", w.genes,
                            BacktestSettings(cash=cash, commission=COMMISSION,
                                             trade_start=w.oos_start))
        bars = full.equity.filter(pl.col("timestamp") >= w.oos_start)
        assert bars.height == w.oos_bars == seg.height
        assert np.array_equal(bars.get_column("equity").to_numpy(),
                              seg.get_column("equity").to_numpy())
        assert bars.get_column("timestamp").to_list() == seg.get_column("timestamp").to_list()
        # the next window starts flat with this equity less the exit of an open position
        open_ = [t for t in doc["trades"] if t["exit_reason"] == "end"]
        cash = doc["metrics"]["final_equity"] - sum(
            abs(t["size"]) * t["exit_price"] * COMMISSION for t in open_)
    assert st.metrics["final_equity"] == st.equity.get_column("equity")[-1]


def _boundary_inside_a_trade(goog, genes, lo):
    """A bar ``b`` (>= lo + 50) at whose close ``genes``, trading from ``lo``, hold a
    position: a window ending at ``b`` must close that position at the boundary."""
    res = run_backtest(goog, "genome", genes,
                       BacktestSettings(trade_start=goog["timestamp"][lo]))
    pos = res.equity.get_column("position").to_numpy()
    held = np.flatnonzero(pos[lo + 50: len(pos) - 60] != 0)
    assert held.size, "the genome never holds a position there"
    return lo + 50 + int(held[0])


def test_a_position_open_at_a_boundary_is_closed_there_with_its_commission(goog, capsys,
                                                                          goog_path):
    from engine.evolution.genome import random_genes, to_params

    rng = random.Random(5)
    g0, g1 = to_params(random_genes(rng)), to_params(random_genes(rng))
    b = _boundary_inside_a_trade(goog, g0, 1200)
    n = goog.height
    spans = [WindowSpan(0, 700, 1200, 1200, b + 1), WindowSpan(1, 700, b + 1, b + 1, n)]
    st = stitch(goog, spans, [g0, g1], cash=10_000.0, commission=COMMISSION)
    ts = goog.get_column("timestamp")
    first = cli_backtest(capsys, goog_path, g0, end=ts[b].isoformat(),
                         trade_start=ts[1200].isoformat(), cash=10_000.0)
    (end_trade,) = [t for t in first["trades"] if t["exit_reason"] == "end"]
    carry = abs(end_trade["size"]) * end_trade["exit_price"] * COMMISSION
    assert carry > 0
    second = cli_backtest(capsys, goog_path, g1, end=ts[n - 1].isoformat(),
                          trade_start=ts[b + 1].isoformat(),
                          cash=first["metrics"]["final_equity"] - carry)
    e = st.equity.get_column("equity").to_numpy()
    k = b + 1 - 1200  # the first bar of window 1 in the stitched curve
    assert e[k - 1] == first["metrics"]["final_equity"]
    assert e[k] == first["metrics"]["final_equity"] - carry  # flat, less the exit commission
    assert e[-1] == second["metrics"]["final_equity"] == st.metrics["final_equity"]
    # the boundary trade is listed as closed there, its pnl net of the exit commission
    bt = st.trades.filter((pl.col("window") == 0) & (pl.col("exit_reason") == "window_end"))
    assert bt.height == 1
    assert bt["pnl"][0] == pytest.approx(end_trade["pnl"] - carry, rel=1e-12)
    assert st.metrics["n_trades"] == len(first["trades"]) + len(second["trades"])
    assert st.metrics["total_return_pct"] == pytest.approx((e[-1] / 10_000.0 - 1) * 100,
                                                           rel=1e-12)


def test_stitched_metrics_against_numpy(small):
    info = run_walkforward(small())
    st = stitched_curve(info.id)
    e = st.equity.get_column("equity").to_numpy()
    r = e[1:] / e[:-1] - 1
    ppy = st.metrics["periods_per_year"]
    ts = st.equity.get_column("timestamp")
    # bars per year actually present: (n - 1) / years spanned
    assert ppy == pytest.approx((len(e) - 1) / ((ts[-1] - ts[0]).total_seconds()
                                                / (365.25 * 86400)), rel=1e-12)
    sd = r.std(ddof=1)
    want_sharpe = r.mean() / sd * math.sqrt(ppy) if sd > 0 else 0.0
    assert st.metrics["sharpe"] == pytest.approx(want_sharpe, rel=1e-9, abs=1e-12)
    peak = np.maximum.accumulate(e)
    assert st.metrics["max_drawdown_pct"] == pytest.approx(((e / peak).min() - 1) * 100,
                                                           abs=1e-9)
    c = st.equity.get_column("close").to_numpy()
    assert st.metrics["buy_hold_return_pct"] == pytest.approx((c[-1] / c[0] - 1) * 100)
    assert st.equity.get_column("buy_hold_equity")[-1] == pytest.approx(10_000 * c[-1] / c[0])
    assert st.equity.height == sum(w.oos_bars for w in info.windows)
    assert info.result["stitched"]["metrics"]["final_equity"] == st.metrics["final_equity"]


def test_efficiency_and_gene_stability_by_hand():
    # efficiency: 6 % out of sample over 12 % in sample = 0.5; undefined for IS <= 0
    assert efficiency(6.0, 12.0) == 0.5
    assert efficiency(-3.0, 12.0) == -0.25
    assert efficiency(6.0, 0.0) is None and efficiency(6.0, -1.0) is None
    assert efficiency(None, 5.0) is None
    from engine.evolution.genome import random_genes, to_params

    g = to_params(random_genes(random.Random(1)))
    lo = dict(g, rsi_period=10)  # rsi_period range 10..30
    hi = dict(g, rsi_period=30)
    same = gene_stability([g, g, g])
    assert same["mean_dispersion"] == 0.0
    two = gene_stability([lo, hi])["genes"]["rsi_period"]
    # scaled values 0 and 1: std 0.5, over 1/sqrt(12) -> 0.5·sqrt(12) = 1.7320508
    assert two["values"] == [10.0, 30.0]
    assert two["dispersion"] == pytest.approx(0.5 * math.sqrt(12))
    assert two["mean"] == 20.0 and two["std"] == 10.0
    assert gene_stability([g])["mean_dispersion"] is None
