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
            fig.add_hline(y=d[key], line_dash="dash", line_color=color,
                          annotation_text=f"{name} {d[key]:.2f}")
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
              fmt: str = ".2f") -> go.Figure:
    """One bar per record: ``x`` as the label, ``y`` as the height (missing → 0), the value
    printed on the bar with the d3 format ``fmt``."""
    fig = go.Figure(go.Bar(x=[str(i[x]) for i in items], y=[i[y] or 0 for i in items],
                           texttemplate=f"%{{y:{fmt}}}"))
    fig.update_layout(title=title, height=300, margin=_MARGIN)
    return fig


def spend_per_day_chart(by_day: Sequence[Mapping[str, Any]], daily_limit_usd: float
                        ) -> go.Figure:
    """Spend per day (USD) against the daily limit (a dashed red line)."""
    fig = bar_chart(by_day, "day", "cost_usd", "Spend per day (USD)", fmt=".4f")
    fig.add_hline(y=daily_limit_usd, line_dash="dash", line_color="#dc2626",
                  annotation_text="daily limit")
    return fig


def accuracy_over_time_chart(by_day: Sequence[Mapping[str, Any]], suffix: str = ""
                             ) -> go.Figure:
    """Accuracy (line) and win rate (markers) per as-of date, days without a scored
    decision left out; a share of 1 on a 0–100 % axis."""
    days = [d for d in by_day if d["accuracy"] is not None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[d["date"] for d in days], y=[d["accuracy"] for d in days],
                             mode="lines+markers", name="accuracy"))
    fig.add_trace(go.Scatter(x=[d["date"] for d in days], y=[d["win_rate"] for d in days],
                             mode="markers", name="win rate"))
    fig.update_layout(title=f"Accuracy over time (by as-of date){suffix}", height=320,
                      yaxis={"tickformat": ".0%", "range": [0, 1]}, margin=_MARGIN)
    return fig


def calibration_chart(calibration: Sequence[Mapping[str, Any]], suffix: str = "") -> go.Figure:
    """Hit rate against mean confidence per bucket (buckets without a scored decision left
    out), each labelled with its count, beside the diagonal of perfect calibration."""
    cal = [c for c in calibration if c["hit_rate"] is not None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 1], mode="lines", name="perfect",
                             line={"dash": "dash", "color": "#94a3b8"}))
    fig.add_trace(go.Scatter(x=[c["mean_confidence"] for c in cal],
                             y=[c["hit_rate"] for c in cal], mode="lines+markers+text",
                             text=[f"n={c['scored']}" for c in cal], textposition="top center",
                             name="observed"))
    fig.update_layout(title=f"Calibration: is 80 % confidence right 80 % of the time?{suffix}",
                      xaxis_title="confidence", yaxis_title="hit rate", height=320,
                      yaxis={"tickformat": ".0%", "range": [0, 1.05]}, margin=_MARGIN)
    return fig
