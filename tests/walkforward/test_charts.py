"""The Walk-forward tab's figures and tables (ui/walkforward_charts.py)."""

from __future__ import annotations

import pytest

from engine import walkforward as wf
from ui import walkforward_charts as wc


@pytest.fixture
def done(small):
    info = wf.run_walkforward(small())
    return info, wf.stitched_curve(info.id)


def test_stitched_chart_draws_both_curves_and_shades_each_window(done):
    info, st = done
    fig = wc.stitched_chart(st.equity)
    names = [t.name for t in fig.data]
    assert names == ["Buy & hold", "Walk-forward (out of sample)"]
    assert list(fig.data[1].y) == st.equity.get_column("equity").to_list()
    assert len(fig.layout.shapes) == 3  # one rectangle per window
    bounds = wc.window_bounds(st.equity)
    assert [(k, a, b) for k, a, b in bounds] == [
        (w.window, w.oos_start, w.oos_end) for w in info.windows]


def test_window_and_gene_tables(done):
    info, _ = done
    frame = wc.windows_frame(info.windows, info.result["window_efficiency"])
    assert frame.get_column("window").to_list() == [0, 1, 2]
    assert frame.get_column("OOS CAGR %").to_list() == [
        w.out_of_sample["cagr_pct"] for w in info.windows]
    assert frame.get_column("efficiency").to_list() == [
        info.result["window_efficiency"][str(k)] for k in range(3)]
    genes = wc.genes_frame(info.windows)
    assert genes.get_column("sma_long").to_list() == [w.genes["sma_long"] for w in info.windows]


def test_gene_stability_chart_scales_each_gene_to_its_range(done):
    info, _ = done
    gs = info.result["gene_stability"]
    fig = wc.gene_stability_chart(gs)
    assert [t.name for t in fig.data] == ["window 0", "window 1", "window 2", "dispersion"]
    g = gs["genes"]["rsi_period"]  # range 10..30
    i = list(gs["genes"]).index("rsi_period")
    assert fig.data[1].x[i] == pytest.approx((g["values"][1] - 10) / 20)
    assert fig.data[3].x[i] == pytest.approx(g["dispersion"])
