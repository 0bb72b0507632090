"""The figure builders of the Model Registry (ui.registry_charts) and Neural Models
(ui.neural_charts) pages, on hand-built engine records."""

from __future__ import annotations

from datetime import datetime

import pytest

from ui import neural_charts, registry_charts


def _node(vid: str, depth: int, *, status: str = "ACTIVE", deployed: list[str] | None = None):
    return {"version_id": vid, "depth": depth, "status": status, "deployed_to": deployed or [],
            "model_type": "lstm", "accuracy": 0.5}


@pytest.fixture
def graph():
    # v1 → v2 (retrained), v2 → v3 (trained), v2 → v4 (promoted); v2 is the one looked at
    return {"root": "v2",
            "nodes": [_node("v1", -1), _node("v2", 0, deployed=["paper"]), _node("v3", 1),
                      _node("v4", 1, status="ARCHIVED")],
            "edges": [{"source": "v1", "target": "v2", "relationship": "retrained_from"},
                      {"source": "v2", "target": "v3", "relationship": "trained"},
                      {"source": "v2", "target": "v4", "relationship": "promoted_from"}]}


def test_lineage_positions_spread_each_generation_around_zero(graph):
    # two children of depth 1: (2 - 1) / 2 = 0.5 either side of 0, in the engine's order
    assert registry_charts.lineage_positions(graph) == {
        "v1": (-1, 0.0), "v2": (0, 0.0), "v3": (1, -0.5), "v4": (1, 0.5)}


def test_lineage_figure_edges_by_relationship_and_nodes(graph):
    fig = registry_charts.lineage_figure(graph)
    edges = {t.name: (list(t.x), list(t.y)) for t in fig.data[:-1]}
    assert edges == {"trained": ([0, 1, None], [0.0, -0.5, None]),
                     "retrained from": ([-1, 0, None], [0.0, 0.0, None]),
                     "promoted from": ([0, 1, None], [0.0, 0.5, None])}
    assert len(fig.layout.annotations) == 3  # one arrow per edge
    nodes = fig.data[-1]
    assert list(nodes.text) == ["v1", "v2", "v3", "v4"]
    assert list(nodes.x) == [-1, 0, 1, 1] and list(nodes.y) == [0.0, 0.0, -0.5, 0.5]
    assert list(nodes.marker.size) == [16, 26, 16, 16]  # the root drawn larger
    assert list(nodes.marker.color) == [registry_charts.VERSION, registry_charts.DEPLOYED,
                                        registry_charts.VERSION, registry_charts.ARCHIVED]
    assert "accuracy 50.0 %" in nodes.hovertext[0]  # percent, as on every page
    # defect 15: ids centred on the outermost nodes were clipped; the axes leave room
    assert list(fig.layout.xaxis.range) == [-1 - registry_charts.X_PAD,
                                            1 + registry_charts.X_PAD]
    assert registry_charts.X_PAD >= 0.5
    lo, hi = fig.layout.yaxis.range
    assert lo < -0.5 and hi > 0.5 + 0.5  # room above the top node for its label


def test_equity_overlay_skips_a_missing_curve():
    fig = registry_charts.equity_overlay(
        {"a": {"x": ["2024-01-01", "2024-01-02"], "y": [100.0, 101.5]}, "b": None},
        {"a": "A · v1", "b": "B · v2"})
    assert len(fig.data) == 1
    assert fig.data[0].name == "A · v1" and list(fig.data[0].y) == [100.0, 101.5]


def test_history_chart_loss_left_accuracy_right():
    epochs = [{"epoch": 1, "train_loss": 1.1, "val_loss": 1.2, "train_acc": 0.4, "val_acc": 0.35},
              {"epoch": 2, "train_loss": 0.9, "val_loss": 1.0, "train_acc": 0.5, "val_acc": 0.45}]
    fig = neural_charts.history_chart(epochs)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["train loss"].y) == [1.1, 0.9] and by_name["train loss"].xaxis == "x"
    assert list(by_name["val loss"].y) == [1.2, 1.0] and by_name["val loss"].xaxis == "x"
    assert list(by_name["val acc"].y) == [0.35, 0.45] and by_name["val acc"].xaxis == "x2"
    assert all(list(t.x) == [1, 2] for t in fig.data)
    # defect 15: the legend sat above the plots, over the "Accuracy" subplot title; it is
    # below them now (paper y < 0) and the titles stay above (y > 1 - a little)
    assert fig.layout.legend.y < 0 and fig.layout.legend.yanchor == "top"
    titles = {a.text: a.y for a in fig.layout.annotations}
    assert titles["Accuracy"] >= 1.0 and titles["Loss"] >= 1.0
    assert fig.layout.yaxis2.tickformat == ".0%"  # accuracy in percent


def test_confusion_chart_rows_are_the_true_class():
    cm = [[5, 1, 0], [2, 7, 1], [0, 3, 9]]
    hm = neural_charts.confusion_chart(cm).data[0]
    assert [list(r) for r in hm.z] == cm
    assert list(hm.x) == list(hm.y) == ["sell", "hold", "buy"]


def test_predictions_chart_marks_buy_and_sell_bars():
    pred = {"timestamp": ["2024-01-01T00:00:00", "2024-01-02T00:00:00", "2024-01-03T00:00:00"],
            "close": [10.0, 11.0, 12.0], "label": ["buy", "hold", "sell"]}
    close, buy, sell = neural_charts.predictions_chart(pred).data
    assert list(close.y) == [10.0, 11.0, 12.0]
    assert buy.name == "Predicted buy" and list(buy.y) == [10.0]
    assert list(buy.x) == [datetime(2024, 1, 1)]
    assert sell.name == "Predicted sell" and list(sell.y) == [12.0]


def test_equity_chart_three_curves():
    eq = {"timestamp": ["2024-01-01T00:00:00", "2024-01-02T00:00:00"],
          "buy_hold": [100.0, 99.0], "baseline": [100.0, 100.5], "model": [100.0, 102.0]}
    fig = neural_charts.equity_chart(eq, "LSTM")
    assert [t.name for t in fig.data] == ["Buy & hold", "Logistic baseline", "LSTM"]
    assert list(fig.data[2].y) == [100.0, 102.0]
