"""The Plotly figure builders of ui.charts, without Streamlit."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import polars as pl
import pytest

from engine.backtest import BacktestSettings, run_backtest, sweep
from engine.market import detect_regimes, generate_synthetic, regime_spans
from engine.market import indicators as ind
from ui import charts


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    return generate_synthetic(600, seed=7)


def test_market_chart_panels_overlays_and_regime_shading(bars):
    bb = ind.bollinger("close", 20, 2.0)
    m = ind.macd("close", 12, 26, 9)
    df = detect_regimes(bars).with_columns(
        ind.sma("close", 20).alias("SMA 20"), ind.ema("close", 50).alias("EMA 50"),
        bb.upper.alias("up"), bb.lower.alias("lo"), bb.mid.alias("mid"),
        ind.rsi("close", 14).alias("RSI 14"),
        m.line.alias("MACD"), m.signal.alias("Signal"), m.hist.alias("Hist"),
    )
    spans = regime_spans(df)
    fig = charts.market_chart(df, lines=["SMA 20", "EMA 50"], band=("up", "lo", "mid"),
                              rsi="RSI 14", macd=("MACD", "Signal", "Hist"), regimes=spans)
    # four panels sharing one time axis: price, volume, RSI, MACD
    assert {ax for ax in fig.layout if ax.startswith("yaxis")} == {
        "yaxis", "yaxis2", "yaxis3", "yaxis4"}
    assert all(fig.layout[f"xaxis{i}"].matches == "x4" for i in ("", "2", "3"))
    names = [t.name for t in fig.data]
    assert names[0] == "Price" and fig.data[0].type == "candlestick"
    assert {"SMA 20", "EMA 50", "up", "lo", "mid", "RSI 14", "MACD", "Signal"} <= set(names)
    # one rectangle per labelled span behind the price panel, plus the RSI 30/70 lines
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    labelled = [s for s in spans if s["regime"] in charts.REGIME_COLORS]
    assert len(rects) == len(labelled) > 0
    assert all(r.layer == "below" and r.yref == "y domain" for r in rects)
    assert [r.fillcolor for r in rects] == [charts.REGIME_COLORS[s["regime"]] for s in labelled]
    hlines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted(h.y0 for h in hlines) == [30.0, 70.0]
    assert all(h.yref == "y3" for h in hlines)
    # a colour key for every regime present
    keys = {t.name for t in fig.data if t.legendgroup == "regimes"}
    assert keys == {f"{charts.REGIME_LABELS[r]} regime" for r in {s["regime"] for s in labelled}}


def test_regime_shapes_leave_no_gaps_and_skip_unknown():
    t0 = datetime(2024, 1, 1)
    spans = [
        {"start": t0, "end": t0 + timedelta(days=4), "regime": "unknown"},
        {"start": t0 + timedelta(days=5), "end": t0 + timedelta(days=9), "regime": "bull"},
        {"start": t0 + timedelta(days=10), "end": t0 + timedelta(days=12), "regime": "bear"},
    ]
    shapes = charts.regime_shapes(spans)
    assert [s["fillcolor"] for s in shapes] == [charts.REGIME_COLORS["bull"],
                                                charts.REGIME_COLORS["bear"]]
    assert shapes[0]["x1"] == spans[2]["start"]  # reaches the next span
    assert shapes[1]["x1"] == spans[2]["end"]


def test_backtest_charts(bars):
    res = run_backtest(bars, "sma_cross", {"fast": 5, "slow": 20},
                       BacktestSettings(stop_loss=0.03, take_profit=0.05, allow_short=True))
    assert res.trades.height > 0
    eq = charts.equity_chart(res.equity)
    assert [t.name for t in eq.data] == ["Buy & hold", "Strategy"]
    dd = charts.drawdown_chart(res.equity)
    assert max(dd.data[0].y) <= 0
    tr = charts.trades_chart(res.equity, res.trades)
    names = [t.name for t in tr.data]
    assert names[0] == "Close"
    n_markers = sum(len(t.x) for t in tr.data if t.name.startswith("Entry"))
    assert n_markers == res.trades.height
    exits = {t.name: len(t.x) for t in tr.data if t.name.startswith("Exit")}
    counts = dict(res.trades.get_column("exit_reason").value_counts().iter_rows())
    assert exits == {f"Exit: {k.replace('_', ' ')}": v for k, v in counts.items()}


def test_long_series_are_thinned_for_the_browser():
    n = charts.MAX_LINE_POINTS * 3 + 1
    eq = pl.DataFrame({
        "timestamp": pl.datetime_range(datetime(2020, 1, 1), datetime(2020, 1, 1)
                                       + timedelta(minutes=n - 1), "1m", eager=True),
        "equity": [1.0] * n, "buy_hold_equity": [1.0] * n, "drawdown_pct": [0.0] * n,
        "close": [1.0] * n,
    })
    fig = charts.equity_chart(eq)
    assert len(fig.data[0].x) <= charts.MAX_LINE_POINTS


def test_sweep_heatmap_and_line(bars):
    res = sweep(bars, "sma_cross", {"fast": [5, 10, 20], "slow": [10, 20, 40]},
                BacktestSettings())
    fig = charts.sweep_heatmap(res.results, "fast", "slow", "sharpe")
    hm = fig.data[0]
    assert list(hm.x) == ["5", "10", "20"] and list(hm.y) == ["10", "20", "40"]
    z = hm.z
    assert math.isnan(z[0][1]) and math.isnan(z[0][2]) and math.isnan(z[1][2])  # skipped
    best = res.results[0]
    assert z[[10, 20, 40].index(best["params"]["slow"])][
        [5, 10, 20].index(best["params"]["fast"])] == pytest.approx(best["metrics"]["sharpe"])
    one = sweep(bars, "sma_cross", {"fast": [2, 4, 6]}, BacktestSettings())
    line = charts.sweep_line(one.results, "fast", "total_return_pct").data[0]
    assert list(line.x) == [2, 4, 6]


def test_parameter_widget_settings_stay_inside_the_engine_bounds():
    from engine.backtest import STRATEGIES
    from ui import params as wp

    assert [wp.nice(x) for x in (0.15, 0.3, 2.2, 7, 0.0004)] == [0.2, 0.5, 2.5, 10, 0.0005]
    assert [wp.decimals(s) for s in (1, 0.5, 0.25, 0.01, 0.0025)] == [0, 1, 2, 2, 4]
    for strat in STRATEGIES.values():
        for p in strat.params:
            lo, hi, step = wp.default_grid(p)
            assert p.low <= lo <= hi <= p.high and step > 0, (strat.name, p.name)
            assert isinstance(wp.typed(p, 3.0), int if p.kind is int else float)


def _ind(uid, fitness, island=0):
    from types import SimpleNamespace

    return SimpleNamespace(uid=uid, island=island, fitness=fitness, in_sample={"sharpe": 1.0},
                           out_of_sample=None, age=0, born=0, parents=[], objectives={},
                           params={"rsi_period": 14})


def test_clones_are_listed_once_with_their_count():
    """Defect 18: the same uid three times (an elite on two islands and a copy) is one row
    with copies = 3, on both islands; rows stay best fitness first."""
    from ui import evolution_charts as ec

    pop = [_ind(5, 0.2), _ind(7, 0.9, 0), _ind(7, 0.9, 1), _ind(7, 0.9, 1), _ind(3, None)]
    assert [(i.uid, n) for i, n in ec.distinct(pop)] == [(7, 3), (5, 1), (3, 1)]
    frame = ec.population_frame(pop)
    assert frame["uid"].to_list() == [7, 5, 3]
    assert frame["copies"].to_list() == [3, 1, 1]
    assert frame["island"].to_list() == ["0, 1", "0", "0"]
    assert ec.fmt_fitness(None) == "n/a" and ec.fmt_fitness(0.91234) == "0.9123"
