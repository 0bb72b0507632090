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


# ------------------------------------------------------------- backtest linked panels

def _equity(points):
    ts = [datetime(2024, m, d) for m, d, _ in points]
    return pl.DataFrame({"timestamp": ts, "equity": [e for *_, e in points]})


def test_monthly_returns_from_month_end_equity():
    """Hand-worked: Jan starts at 100 and ends at 110 (+10 %), Feb ends at 99 (99/110 - 1
    = -10 %), Mar has one bar at 99 (0 %)."""
    from ui import backtest_charts as bc

    eq = _equity([(1, 2, 100.0), (1, 15, 104.0), (1, 31, 110.0), (2, 10, 120.0),
                  (2, 28, 99.0), (3, 1, 99.0)])
    m = bc.monthly_returns(eq)
    assert m["month"].to_list() == [1, 2, 3]
    assert m["return_pct"].to_list() == pytest.approx([10.0, -10.0, 0.0])
    fig = bc.monthly_heatmap(m)
    hm = fig.data[0]
    assert list(hm.y) == ["2024"] and list(hm.x)[:3] == ["Jan", "Feb", "Mar"]
    assert hm.z[0][:3] == pytest.approx((10.0, -10.0, 0.0)) and hm.z[0][3] is None
    assert hm.text[0][:2] == ("10.0", "-10.0") or list(hm.text[0][:2]) == ["10.0", "-10.0"]


def test_linked_chart_shares_one_axis_and_draws_every_trade(bars):
    """Four panels on one x-axis (zoom/pan together), spikes across all, the entry → exit
    line of every trade at its fill prices, P&L bars = the trade table's pnl."""
    from ui import backtest_charts as bc

    res = run_backtest(bars, "sma_cross", {"fast": 5, "slow": 20},
                       BacktestSettings(stop_loss=0.05))
    assert res.trades.height > 3
    fig = bc.linked_chart(bars, res.equity, res.trades, log_equity=True)
    lay = fig.layout
    # make_subplots(shared_xaxes=True): the upper three follow the bottom axis
    assert [lay[a].matches for a in ("xaxis", "xaxis2", "xaxis3")] == ["x4"] * 3
    assert lay.hovermode == "x unified"
    assert all(lay[a].showspikes and lay[a].spikemode == "across"
               for a in ("xaxis", "xaxis2", "xaxis3", "xaxis4"))
    assert lay.yaxis2.type == "log" and bc.linked_chart(bars, res.equity, res.trades
                                                        ).layout.yaxis2.type == "linear"
    names = [t.name for t in fig.data]
    assert names[0] == "Price" and "Equity" in names and "Trade P&L" in names
    segs = [t for t in fig.data if t.name in ("Winning trade", "Losing trade")]
    n_points = sum(sum(1 for v in t.y if v is not None) for t in segs)
    assert n_points == 2 * res.trades.height
    wins = res.trades.filter(pl.col("pnl") > 0)
    win = next(t for t in segs if t.name == "Winning trade")
    assert [v for v in win.y if v is not None][:2] == pytest.approx(
        [wins["entry_price"][0], wins["exit_price"][0]])
    pnl = next(t for t in fig.data if t.name == "Trade P&L")
    assert list(pnl.y) == pytest.approx(res.trades["pnl"].to_list())


def test_merge_candles_keeps_the_extremes():
    """3 bars → 2 candles with k = 2: the first candle opens at bar 0, closes at bar 1 and
    spans the two bars' high and low."""
    from ui import backtest_charts as bc

    df = pl.DataFrame({"timestamp": [datetime(2024, 1, d) for d in (1, 2, 3)],
                       "open": [1.0, 2.0, 3.0], "high": [5.0, 4.0, 6.0],
                       "low": [0.5, 0.2, 2.0], "close": [2.0, 3.0, 4.0]})
    out = bc.merge_candles(df, max_candles=2)
    assert out.to_dicts()[0] | {"timestamp": None} == {
        "timestamp": None, "open": 1.0, "high": 5.0, "low": 0.2, "close": 3.0}
    assert out.height == 2 and out["close"][1] == 4.0


def test_sweep_trials_frame_filter_and_parallel_coordinates():
    """Three hand-made trials: the frame has params then metrics, the filter keeps the
    two with sharpe >= 0.5 (a None never passes), the parallel-coordinates figure has one
    axis per swept parameter plus the metric."""
    from ui import sweep_charts as sc

    results = [{"params": {"fast": 5, "slow": 20}, "metrics": {"sharpe": 1.2, "n_trades": 4}},
               {"params": {"fast": 10, "slow": 30}, "metrics": {"sharpe": 0.5, "n_trades": 2}},
               {"params": {"fast": 15, "slow": 40}, "metrics": {"sharpe": None, "n_trades": 0}}]
    frame = sc.results_frame(results, ["fast", "slow"])
    assert frame.columns == ["fast", "slow", "sharpe", "n_trades"]
    kept = sc.filter_frame(frame, "sharpe", 0.5)
    assert kept["fast"].to_list() == [5.0, 10.0]
    assert sc.filter_frame(frame, "sharpe", None).height == 2
    fig = sc.parallel_coordinates(kept, ["fast", "slow"], "sharpe")
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["fast", "slow", "sharpe"]
    assert list(dims[2].values) == [1.2, 0.5]


def test_contour_and_slice_carry_the_trials():
    from ui import sweep_charts as sc

    frame = pl.DataFrame({"a": [1.0, 2.0, 1.0, 2.0], "b": [10.0, 10.0, 20.0, 20.0],
                          "fitness": [0.1, 0.2, 0.3, 0.4]})
    fig = sc.contour(frame, "a", "b", "fitness")
    assert list(fig.data[0].z) == [0.1, 0.2, 0.3, 0.4] and fig.data[0].connectgaps
    assert list(fig.data[1].x) == [1.0, 2.0, 1.0, 2.0]
    sl = sc.slice_plot(frame, ["a", "b"], "fitness")
    assert [list(t.x) for t in sl.data] == [[1.0, 2.0, 1.0, 2.0], [10.0, 10.0, 20.0, 20.0]]
    assert all(list(t.y) == [0.1, 0.2, 0.3, 0.4] for t in sl.data)
