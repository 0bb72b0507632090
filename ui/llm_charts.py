"""Figures of the AI Analyst and Costs & Accuracy pages: engine records in, ``go.Figure`` out.

Pure drawing, like :mod:`ui.charts`: no streamlit, no engine calls. The inputs are what
:mod:`engine.llm` returns — an ``analyze`` document, a ``replay`` result's decisions, the
``cost_summary`` / ``accuracy_report`` records — and the bars of the symbol (a frame with
``timestamp`` and ``close``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import polars as pl

DECISION_COLORS = {"BUY": "#16a34a", "SELL": "#dc2626", "HOLD": "#64748b"}
REPLAY_MARKERS = {"BUY": "triangle-up", "SELL": "triangle-down", "HOLD": "circle"}
#: The levels of a decision drawn as dashed lines: (label, decision key, colour).
LEVELS = (("entry", "entry_price", "#334155"), ("stop-loss", "stop_loss", "#dc2626"),
          ("take-profit", "take_profit", "#16a34a"))
#: Closes shown before the as-of date of a decision.
DECISION_WINDOW = 250
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def offline_tag(doc: Mapping[str, Any]) -> str:
    """" · offline" for an analysis by the offline analyst (every result says so)."""
    return " · offline" if doc.get("provider") == "offline" else ""


def decision_chart(bars: pl.DataFrame, doc: Mapping[str, Any], symbol: str) -> go.Figure:
    """The last DECISION_WINDOW closes up to the as-of date, with the decision as a star at
    the analysed price and its entry, stop-loss and take-profit as dashed lines."""
    as_of = datetime.fromisoformat(doc["as_of"])
    df = bars.filter(pl.col("timestamp") <= as_of).tail(DECISION_WINDOW)
    fig = go.Figure(go.Scatter(x=df["timestamp"].to_list(), y=df["close"].to_list(),
                               name="close", line={"color": "#2563eb"}))
    d = doc.get("decision") or {}
    for name, key, color in LEVELS:
        if d.get(key):
            # labels at the left end: the decision's marker sits at the right end (the
            # as-of bar), where right-hand labels collided with it
            fig.add_hline(y=d[key], line_dash="dash", line_color=color,
                          annotation_text=f"{name} {d[key]:,.2f}",
                          annotation_position="bottom left" if key == "stop_loss"
                          else "top left", annotation_font_color=color)
    if d:
        fig.add_trace(go.Scatter(x=[as_of], y=[doc["price"]], mode="markers",
                                 name=d["decision"],
                                 marker={"size": 14, "color": DECISION_COLORS[d["decision"]],
                                         "symbol": "star"}))
    fig.update_layout(title=f"{symbol} as of {doc['as_of'][:10]} — {d.get('decision', 'none')}"
                            f"{offline_tag(doc)}", height=380, margin=_MARGIN)
    return fig


def replay_chart(bars: pl.DataFrame, decisions: Sequence[Mapping[str, Any]], symbol: str, *,
                 offline: bool) -> go.Figure:
    """The closes of the replayed span with one marker per decision, at that day's close."""
    ts_all, closes = bars["timestamp"].to_list(), bars["close"].to_list()
    fig = go.Figure(go.Scatter(x=ts_all, y=closes, name="close", line={"color": "#94a3b8"}))
    close_at = dict(zip(ts_all, closes, strict=True))
    for kind, color in DECISION_COLORS.items():
        ts = [datetime.fromisoformat(d["as_of"]) for d in decisions if d["decision"] == kind]
        if ts:
            fig.add_trace(go.Scatter(
                x=ts, y=[close_at.get(t) for t in ts], mode="markers", name=kind,
                marker={"color": color, "size": 9, "symbol": REPLAY_MARKERS[kind]}))
    fig.update_layout(title=f"Replay of {symbol}{' · offline' if offline else ''}",
                      height=360, margin=_MARGIN)
    return fig


def bar_chart(items: Sequence[Mapping[str, Any]], x: str, y: str, title: str, *,
              fmt: str = ".2f", horizontal: bool = False) -> go.Figure:
    """One bar per record: ``x`` as the label, ``y`` as the length (missing → 0), the value
    printed on the bar with the d3 format ``fmt``. ``horizontal`` puts the labels on the
    y axis (long labels such as prompt versions then take the width they need instead of
    squashing the plot), one row of 28 px per bar."""
    labels, values = [str(i[x]) for i in items], [i[y] or 0 for i in items]
    if horizontal:
        # a long label (a consensus' prompt versions joined by "+") on several lines
        labels = [lab.replace("+", "+<br>") if len(lab) > 30 else lab for lab in labels]
        fig = go.Figure(go.Bar(y=labels, x=values, orientation="h",
                               texttemplate=f"%{{x:{fmt}}}", textposition="auto"))
        fig.update_yaxes(automargin=True, autorange="reversed")
        if "%" in fmt:
            fig.update_xaxes(tickformat=".0%")
        lines = sum(lab.count("<br>") + 1 for lab in labels)
        height = max(220, 90 + 28 * max(len(items), lines))
    else:
        fig = go.Figure(go.Bar(x=labels, y=values, texttemplate=f"%{{y:{fmt}}}"))
        height = 300
    fig.update_layout(title=title, height=height, margin=_MARGIN)
    return fig


def spend_per_day_chart(by_day: Sequence[Mapping[str, Any]], daily_limit_usd: float
                        ) -> go.Figure:
    """Spend per day (USD) against the daily limit (a dashed red line)."""
    fig = bar_chart(by_day, "day", "cost_usd", "Spend per day (USD)", fmt=".4f")
    fig.add_hline(y=daily_limit_usd, line_dash="dash", line_color="#dc2626",
                  annotation_text="daily limit")
    return fig


def rolling_accuracy(by_day: Sequence[Mapping[str, Any]], window: int = 20
                     ) -> list[dict[str, Any]]:
    """Accuracy over the newest ``window`` scored decisions (at least), at each as-of date.

    A day usually holds one decision, so a per-day accuracy is 0 % or 100 %; here each date
    pools its day with the days before it until at least ``window`` scored decisions are in
    (fewer at the start, and ``n`` says how many). ``[{"date", "accuracy", "n"}]``; days
    without a scored decision are skipped.
    """
    days = [d for d in by_day if d.get("scored") and d.get("accuracy") is not None]
    out: list[dict[str, Any]] = []
    for i, d in enumerate(days):
        n = correct = 0.0
        j = i
        while j >= 0 and n < window:
            n += days[j]["scored"]
            correct += days[j]["accuracy"] * days[j]["scored"]
            j -= 1
        out.append({"date": d["date"], "accuracy": correct / n, "n": int(n)})
    return out


def accuracy_over_time_chart(by_day: Sequence[Mapping[str, Any]], suffix: str = "", *,
                             window: int = 20) -> go.Figure:
    """Rolling accuracy (see :func:`rolling_accuracy`) per as-of date, its count ``n`` in
    the hover and as light bars on a second axis; a share of 1 on a 0–100 % axis."""
    roll = rolling_accuracy(by_day, window)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[r["date"] for r in roll], y=[r["n"] for r in roll],
                         name="decisions in the window", yaxis="y2", opacity=0.25,
                         marker_color="#94a3b8", hovertemplate="%{x}: n=%{y}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[r["date"] for r in roll], y=[r["accuracy"] for r in roll],
                             mode="lines+markers", name=f"accuracy, last {window} decisions",
                             customdata=[r["n"] for r in roll],
                             hovertemplate="%{x}: %{y:.0%} of n=%{customdata}<extra></extra>"))
    fig.update_layout(title=f"Accuracy over time: rolling {window} decisions{suffix}",
                      height=320, margin=_MARGIN,
                      yaxis={"tickformat": ".0%", "range": [0, 1]},
                      yaxis2={"overlaying": "y", "side": "right", "showgrid": False,
                              "title": "n", "tickformat": ",d", "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def calibration_chart(calibration: Sequence[Mapping[str, Any]], suffix: str = "") -> go.Figure:
    """Hit rate against mean confidence per bucket (buckets without a scored decision left
    out) beside the diagonal of perfect calibration. The count of each bucket is the
    marker's size and in its hover (printed labels collided when buckets sat close)."""
    cal = [c for c in calibration if c["hit_rate"] is not None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 1], mode="lines", name="perfect",
                             line={"dash": "dash", "color": "#94a3b8"}))
    biggest = max((c["scored"] for c in cal), default=1) or 1
    fig.add_trace(go.Scatter(
        x=[c["mean_confidence"] for c in cal], y=[c["hit_rate"] for c in cal],
        mode="lines+markers", name="observed (size = n)",
        marker={"size": [8 + 16 * (c["scored"] / biggest) ** 0.5 for c in cal]},
        customdata=[c["scored"] for c in cal],
        hovertemplate="confidence %{x:.0f}: hit rate %{y:.0%}, n=%{customdata}"
                      "<extra></extra>"))
    # a short one-line title (a two-line one was cut off at the top); the question it
    # answers is the x-axis title
    fig.update_layout(
        title=f"Calibration{suffix}",
        xaxis_title="confidence (is 80 % confidence right 80 % of the time?)",
        yaxis_title="hit rate", height=340,
        yaxis={"tickformat": ".0%", "range": [0, 1.05]},
        margin=_MARGIN, legend={"orientation": "h", "y": -0.3})
    return fig
