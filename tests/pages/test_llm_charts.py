"""The figure builders of the AI Analyst and Costs & Accuracy pages (ui.llm_charts), on
hand-built engine records: the traces carry exactly the expected points."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from ui import llm_charts

T0 = datetime(2024, 1, 1)


def _bars(closes: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"timestamp": [T0 + timedelta(days=i) for i in range(len(closes))],
                         "close": closes})


def test_decision_chart_shows_the_window_up_to_the_as_of_date_and_the_levels():
    bars = _bars([float(i) for i in range(300)])  # close of day i is i
    as_of = T0 + timedelta(days=260)
    doc = {"as_of": as_of.isoformat(), "price": 260.0, "provider": "offline",
           "decision": {"decision": "BUY", "entry_price": 260.0, "stop_loss": 247.0,
                        "take_profit": None}}
    fig = llm_charts.decision_chart(bars, doc, "SYN")
    close = fig.data[0]
    # days 0..260 are up to the as-of date; the last 250 of them are days 11..260
    assert list(close.y) == [float(i) for i in range(11, 261)]
    assert list(close.x)[0] == T0 + timedelta(days=11) and list(close.x)[-1] == as_of
    star = fig.data[1]
    assert star.name == "BUY" and list(star.x) == [as_of] and list(star.y) == [260.0]
    assert star.marker.symbol == "star" and star.marker.color == llm_charts.DECISION_COLORS["BUY"]
    # entry and stop-loss drawn; no take-profit (None)
    assert sorted(s.y0 for s in fig.layout.shapes) == [247.0, 260.0]
    assert fig.layout.title.text == "SYN as of 2024-09-17 — BUY · offline"


def test_decision_chart_without_a_decision_is_the_closes_alone():
    doc = {"as_of": (T0 + timedelta(days=2)).isoformat(), "price": 3.0, "provider": "anthropic",
           "decision": None}
    fig = llm_charts.decision_chart(_bars([1.0, 2.0, 3.0, 4.0]), doc, "X")
    assert len(fig.data) == 1 and list(fig.data[0].y) == [1.0, 2.0, 3.0]
    assert not fig.layout.shapes
    assert fig.layout.title.text == "X as of 2024-01-03 — none"


def test_replay_chart_puts_each_decision_on_that_days_close():
    bars = _bars([10.0, 11.0, 12.0, 13.0, 14.0])
    day = [(T0 + timedelta(days=i)).isoformat() for i in range(5)]
    decisions = [{"as_of": day[1], "decision": "BUY"}, {"as_of": day[3], "decision": "SELL"},
                 {"as_of": day[4], "decision": "BUY"}]
    fig = llm_charts.replay_chart(bars, decisions, "X", offline=True)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name) == ["close", "BUY", "SELL"]  # no HOLD decision, no HOLD trace
    assert list(by_name["BUY"].y) == [11.0, 14.0]
    assert list(by_name["BUY"].x) == [T0 + timedelta(days=1), T0 + timedelta(days=4)]
    assert list(by_name["SELL"].y) == [13.0]
    assert by_name["SELL"].marker.symbol == "triangle-down"
    assert fig.layout.title.text == "Replay of X · offline"


def test_bar_chart_labels_heights_and_missing_values():
    items = [{"model": "haiku", "acc": 0.5}, {"model": 7, "acc": None}]
    fig = llm_charts.bar_chart(items, "model", "acc", "Accuracy", fmt=".0%")
    bar = fig.data[0]
    assert list(bar.x) == ["haiku", "7"] and list(bar.y) == [0.5, 0]
    assert bar.texttemplate == "%{y:.0%}" and fig.layout.title.text == "Accuracy"


def test_spend_per_day_has_the_daily_limit_line():
    by_day = [{"day": "2024-01-01", "cost_usd": 0.25}, {"day": "2024-01-02", "cost_usd": 1.5}]
    fig = llm_charts.spend_per_day_chart(by_day, 2.0)
    assert list(fig.data[0].y) == [0.25, 1.5]
    assert [s.y0 for s in fig.layout.shapes] == [2.0]


def test_accuracy_over_time_is_a_rolling_window_with_its_count():
    # defect 12: one decision per date plotted 0 % / 100 % per day (a sawtooth). Rolling over
    # at least 2 decisions: d1 alone (1 of 1 = 100 %, n=1); d3 pools d3+d1 (0+1 of 2 = 50 %);
    # d4 pools d4 (3 of 4 correct, n=4 ≥ 2) alone = 75 %; d2 has no score and is skipped
    by_day = [{"date": "d1", "scored": 1, "accuracy": 1.0},
              {"date": "d2", "scored": 0, "accuracy": None},
              {"date": "d3", "scored": 1, "accuracy": 0.0},
              {"date": "d4", "scored": 4, "accuracy": 0.75}]
    assert llm_charts.rolling_accuracy(by_day, window=2) == [
        {"date": "d1", "accuracy": 1.0, "n": 1}, {"date": "d3", "accuracy": 0.5, "n": 2},
        {"date": "d4", "accuracy": 0.75, "n": 4}]
    fig = llm_charts.accuracy_over_time_chart(by_day, " (incl. offline)", window=2)
    counts, acc = fig.data
    assert list(acc.x) == ["d1", "d3", "d4"] and list(acc.y) == [1.0, 0.5, 0.75]
    assert list(counts.y) == [1, 2, 4] and counts.yaxis == "y2"
    assert fig.layout.title.text == "Accuracy over time: rolling 2 decisions (incl. offline)"


def test_calibration_against_the_diagonal_counts_as_size_not_labels():
    cal = [{"mean_confidence": 55.0, "hit_rate": 0.4, "scored": 5},
           {"mean_confidence": 65.0, "hit_rate": None, "scored": 0},
           {"mean_confidence": 85.0, "hit_rate": 0.9, "scored": 10}]
    fig = llm_charts.calibration_chart(cal, " (incl. offline)")
    perfect, observed = fig.data
    assert list(perfect.x) == [0, 100] and list(perfect.y) == [0, 1]
    assert list(observed.x) == [55.0, 85.0] and list(observed.y) == [0.4, 0.9]
    # defect 12: printed n= labels overlapped; the count is the hover and the marker size
    assert "text" not in observed.mode and list(observed.customdata) == [5, 10]
    assert observed.marker.size[1] > observed.marker.size[0]
    # a short one-line title (the long question, cut off at the top, is the axis title)
    assert fig.layout.title.text == "Calibration (incl. offline)"
    assert "80 % of the time" in fig.layout.xaxis.title.text


def test_horizontal_bars_give_long_labels_their_own_width():
    items = [{"key": "master_analyst v3 · momentum_catalyst v2 · contrarian v1",
              "accuracy": 0.5}, {"key": "short", "accuracy": None}]
    fig = llm_charts.bar_chart(items, "key", "accuracy", "Accuracy by prompt version",
                               fmt=".0%", horizontal=True)
    bar = fig.data[0]
    assert bar.orientation == "h" and list(bar.y) == [items[0]["key"], "short"]
    assert list(bar.x) == [0.5, 0] and fig.layout.yaxis.automargin is True
    assert fig.layout.xaxis.tickformat == ".0%"
    joined = llm_charts.bar_chart([{"key": "consensus@contrarian@1.0+market_regime@1.0+"
                                           "master_analyst@1.1", "accuracy": 0.5}],
                                  "key", "accuracy", "t", fmt=".0%", horizontal=True)
    assert list(joined.data[0].y) == ["consensus@contrarian@1.0+<br>market_regime@1.0+<br>"
                                      "master_analyst@1.1"]


def test_decision_levels_are_labelled_away_from_the_marker():
    bars = _bars([float(i) for i in range(30)])
    doc = {"as_of": (T0 + timedelta(days=29)).isoformat(), "price": 29.0,
           "provider": "offline", "decision": {"decision": "BUY", "entry_price": 29.0,
                                               "stop_loss": 27.0, "take_profit": 33.0}}
    fig = llm_charts.decision_chart(bars, doc, "X")
    # the BUY star is at the right end (the as-of bar): every label is at the left end
    assert {a.xanchor for a in fig.layout.annotations} == {"left"}
    assert all(a.x == 0 for a in fig.layout.annotations)
