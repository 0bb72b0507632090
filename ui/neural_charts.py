"""Figures of the Neural Models page: a training run's records in, ``go.Figure`` out.

Pure drawing, like :mod:`ui.charts`: no streamlit, no engine calls. The inputs are what
:mod:`engine.neural` stores for a training run: its epochs (``epoch``, ``train_loss``,
``val_loss``, ``train_acc``, ``val_acc``) and its result's ``confusion_matrix``,
``predictions`` (``timestamp``, ``close``, ``label``) and ``equity`` (``timestamp``,
``buy_hold``, ``baseline``, ``model``) columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from engine.neural import CLASS_NAMES  # the engine's class order: sell, hold, buy

CLASS_COLORS = {"buy": "#16a34a", "sell": "#dc2626", "hold": "#94a3b8"}


def layout(fig: go.Figure, height: int, title: str) -> go.Figure:
    """The page's frame: height, tight margins, a title, one x-unified hover, a legend above."""
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      title=dict(text=title), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="right",
                                  x=1))
    return fig


def history_chart(epochs: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch, train blue and validation orange."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    x = [e["epoch"] for e in epochs]
    for col, (key, name, color, dash) in enumerate((
            ("train_loss", "train loss", "#2563eb", None), ("val_loss", "val loss", "#ea580c",
                                                            None),
            ("train_acc", "train acc", "#2563eb", "dot"), ("val_acc", "val acc", "#ea580c",
                                                          "dot"))):
        fig.add_trace(go.Scatter(x=x, y=[e[key] for e in epochs], name=name,
                                 mode="lines+markers", line=dict(color=color, dash=dash)),
                      row=1, col=1 + col // 2)
    fig.update_xaxes(title_text="epoch", dtick=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=2)  # accuracy in percent, as everywhere
    layout(fig, 340, "Training progress (train and validation)")
    # the legend goes below the plots: above them it covered the "Accuracy" subplot title
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="center",
                                  x=0.5), margin=dict(l=10, r=10, t=60, b=10))
    return fig


def confusion_chart(cm: Sequence[Sequence[int]]) -> go.Figure:
    """The test period's confusion matrix: rows the true class, columns the predicted one,
    in the engine's class order (sell, hold, buy), each cell's count printed."""
    names = list(CLASS_NAMES)
    fig = go.Figure(go.Heatmap(z=cm, x=names, y=names, colorscale="Blues", showscale=False,
                               text=cm, texttemplate="%{text}",
                               hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    fig.update_xaxes(title_text="predicted")
    fig.update_yaxes(title_text="true", autorange="reversed")
    return layout(fig, 320, "Confusion matrix (test period)")


def predictions_chart(pred: Mapping[str, Sequence[Any]]) -> go.Figure:
    """The test period's closes with a marker on every bar predicted buy or sell (ISO
    timestamps, as the training result stores them)."""
    df = pl.DataFrame({k: pred[k] for k in ("timestamp", "close", "label")}).with_columns(
        pl.col("timestamp").str.to_datetime())
    fig = go.Figure(go.Scatter(x=df["timestamp"], y=df["close"], name="Close", mode="lines",
                               line=dict(color="#334155", width=1.2)))
    for label, symbol in (("buy", "triangle-up"), ("sell", "triangle-down")):
        sub = df.filter(pl.col("label") == label)
        fig.add_trace(go.Scatter(x=sub["timestamp"], y=sub["close"], mode="markers",
                                 name=f"Predicted {label}",
                                 marker=dict(symbol=symbol, size=8,
                                             color=CLASS_COLORS[label])))
    fig.update_yaxes(title_text="Price")
    return layout(fig, 360, "Test period: the model's predictions on the price")


def equity_chart(eq: Mapping[str, Sequence[Any]], name: str) -> go.Figure:
    """The test period's equity: buy-and-hold, the logistic baseline and the model."""
    x = pl.Series(eq["timestamp"]).str.to_datetime()
    fig = go.Figure()
    for key, label, color in (("buy_hold", "Buy & hold", "#94a3b8"),
                              ("baseline", "Logistic baseline", "#ea580c"),
                              ("model", name, "#2563eb")):
        fig.add_trace(go.Scatter(x=x, y=eq[key], name=label, mode="lines",
                                 line=dict(color=color, width=1.8 if key == "model" else 1.3)))
    fig.update_yaxes(title_text="Equity")
    return layout(fig, 340, "Test period: model vs logistic baseline vs buy-and-hold")
