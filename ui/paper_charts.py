"""The Paper Trading page's figures.

* :func:`equity_figure` — the book's equity and each sleeve's, against buy-and-hold of the
  same cash (:func:`engine.paper.buy_and_hold`);
* :func:`correlation_heatmap` — the open positions' return correlations over the book's
  correlation window, the limit marked;
* :func:`reconcile_figure` — a sleeve's paper equity against the backtest of the same bars.

Pure drawing like :mod:`ui.charts`: documents in, ``go.Figure`` out, no streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ui.charts import LINE_COLORS, base_layout

BOOK_COLOR = "#111827"
HOLD_COLOR = "#9ca3af"


def _times(iso: Sequence[str]) -> np.ndarray:
    return np.array([str(t)[:19] for t in iso], dtype="datetime64[s]")


def equity_figure(equity: Mapping[str, Any], hold: Mapping[str, Any] | None = None, *,
                  sleeves: bool = True, height: int = 420) -> go.Figure:
    """``equity`` is :func:`engine.paper.book_equity`'s document, ``hold`` the matching
    :func:`engine.paper.buy_and_hold` one (the book's total as a dotted grey line)."""
    fig = go.Figure()
    x = _times(equity.get("time") or [])
    fig.add_trace(go.Scatter(x=x, y=equity.get("equity") or [], name="Book",
                             line=dict(color=BOOK_COLOR, width=2.2)))
    if hold and hold.get("equity"):
        fig.add_trace(go.Scatter(x=_times(hold["time"]), y=hold["equity"],
                                 name="Buy & hold (book)",
                                 line=dict(color=HOLD_COLOR, width=1.6, dash="dot")))
    if sleeves:
        for k, (name, curve) in enumerate((equity.get("sleeves") or {}).items()):
            color = LINE_COLORS[k % len(LINE_COLORS)]
            fig.add_trace(go.Scatter(x=_times(curve.get("time") or []),
                                     y=curve.get("equity") or [], name=f"Sleeve {name}",
                                     line=dict(color=color, width=1.2)))
            bh = (hold or {}).get("sleeves", {}).get(name)
            if bh:
                fig.add_trace(go.Scatter(x=_times(hold["time"]), y=bh,
                                         name=f"B&H {name}", visible="legendonly",
                                         line=dict(color=color, width=1, dash="dot")))
    base_layout(fig, height, "Equity vs buy-and-hold")
    fig.update_yaxes(title_text="USD", tickformat=",.0f")
    return fig


def correlation_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[float | None]], *,
                        window: int, limit: float | None = None,
                        height: int = 380) -> go.Figure:
    """A symbol × symbol grid of correlations in [-1, 1] (red: move together)."""
    z = np.array(matrix, dtype=np.float64) if len(matrix) else np.zeros((0, 0))
    text = [["—" if not np.isfinite(v) else f"{v:.2f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(labels), y=list(labels), zmin=-1, zmax=1, colorscale="RdBu",
        reversescale=True, text=text, texttemplate="%{text}",
        hovertemplate="%{y} · %{x}: %{z:.3f}<extra></extra>",
        colorbar=dict(title="ρ")))
    title = f"Return correlation of open positions, last {window} bars"
    if limit is not None:
        title += f" (limit {limit:g})"
    base_layout(fig, height, title)
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(autorange="reversed")
    return fig


def reconcile_figure(paper: Mapping[str, Sequence[Any]], backtest: Mapping[str, Sequence[Any]],
                     *, title: str = "Backtest vs paper", height: int = 360) -> go.Figure:
    """Two equity curves: ``paper`` (``{"time", "equity"}``, the sleeve's snapshots) and
    ``backtest`` (``{"time", "equity"}`` of the same bars)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=_times(backtest.get("time") or []),
                             y=backtest.get("equity") or [], name="Backtest",
                             line=dict(color=LINE_COLORS[2], width=3)))
    fig.add_trace(go.Scatter(x=_times(paper.get("time") or []), y=paper.get("equity") or [],
                             name="Paper", line=dict(color=BOOK_COLOR, width=1.4, dash="dash")))
    base_layout(fig, height, title)
    fig.update_yaxes(title_text="USD", tickformat=",.0f")
    return fig
