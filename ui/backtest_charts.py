"""The Backtest page's figures, as backtesting.py's plot and TradingView draw a run.

* :func:`linked_chart` — candlesticks with each trade's entry → exit line, the equity
  curve (beside buy-and-hold; log scale on request), drawdown and per-trade P&L in four
  panels that share one x-axis: they zoom and pan together, with one crosshair (spikes
  across every panel) and a unified hover.
* :func:`monthly_returns` / :func:`monthly_heatmap` — the return of each calendar month
  from month-end equity, as a year × month grid.

Pure drawing like :mod:`ui.charts`: frames in, ``go.Figure`` / frames out, no streamlit.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from ui.charts import LINE_COLORS, base_layout, thin, x_values, y_values

WIN, LOSS = "#16a34a", "#dc2626"
#: Above this many bars the candles are merged k bars to one (open first, high max, low
#: min, close last) so the browser stays fluid; the lines are thinned as in ui.charts.
MAX_CANDLES = 3_000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def merge_candles(bars: pl.DataFrame, max_candles: int = MAX_CANDLES) -> pl.DataFrame:
    """``bars`` with every k consecutive bars merged into one candle when there are more
    than ``max_candles`` (k = ceil(n / max_candles)); unchanged otherwise."""
    if bars.height <= max_candles:
        return bars
    k = int(np.ceil(bars.height / max_candles))
    return (bars.with_row_index("_i").group_by(pl.col("_i") // k, maintain_order=True)
            .agg(pl.col("timestamp").first(), pl.col("open").first(), pl.col("high").max(),
                 pl.col("low").min(), pl.col("close").last())
            .drop("_i"))


def trade_segments(trades: pl.DataFrame) -> dict[str, dict[str, list]]:
    """Entry → exit line segments, split into winning and losing trades: x and y lists
    with a ``None`` between segments (one trace per colour draws them all)."""
    out: dict[str, dict[str, list]] = {"win": {"x": [], "y": []}, "loss": {"x": [], "y": []}}
    for t in trades.iter_rows(named=True):
        side = out["win" if (t["pnl"] or 0) > 0 else "loss"]
        side["x"] += [t["entry_time"], t["exit_time"], None]
        side["y"] += [t["entry_price"], t["exit_price"], None]
    return out


def linked_chart(bars: pl.DataFrame, equity: pl.DataFrame, trades: pl.DataFrame, *,
                 log_equity: bool = False, title: str = "") -> go.Figure:
    """Price with trades, equity, drawdown and per-trade P&L on one shared, linked x-axis.

    ``bars`` is the run's OHLC window, ``equity`` and ``trades`` the result's frames.
    """
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        row_heights=[0.46, 0.24, 0.15, 0.15],
                        subplot_titles=("Price and trades", "Equity", "Drawdown %",
                                        "Trade P&L"))
    candles = merge_candles(bars)
    fig.add_trace(go.Candlestick(
        x=x_values(candles), open=y_values(candles, "open"), high=y_values(candles, "high"),
        low=y_values(candles, "low"), close=y_values(candles, "close"), name="Price",
        increasing_line_color="#26a69a", decreasing_line_color="#ef5350",
        showlegend=False), row=1, col=1)
    for side, color, label in (("win", WIN, "Winning trade"), ("loss", LOSS, "Losing trade")):
        seg = trade_segments(trades)[side]
        if seg["x"]:
            fig.add_trace(go.Scatter(x=seg["x"], y=seg["y"], mode="lines+markers",
                                     name=label, line=dict(color=color, width=2, dash="dot"),
                                     marker=dict(size=7, color=color), hoverinfo="skip"),
                          row=1, col=1)
    eq = thin(equity)
    fig.add_trace(go.Scatter(x=x_values(eq), y=y_values(eq, "equity"), name="Equity",
                             line=dict(color=LINE_COLORS[0], width=1.6)), row=2, col=1)
    if "buy_hold_equity" in eq.columns:
        fig.add_trace(go.Scatter(x=x_values(eq), y=y_values(eq, "buy_hold_equity"),
                                 name="Buy & hold", line=dict(color="#94a3b8", width=1.2)),
                      row=2, col=1)
    fig.add_trace(go.Scatter(x=x_values(eq), y=y_values(eq, "drawdown_pct"), name="Drawdown %",
                             fill="tozeroy", line=dict(color=LOSS, width=1),
                             showlegend=False), row=3, col=1)
    if trades.height:
        pnl = trades.get_column("pnl").to_list()
        fig.add_trace(go.Bar(x=trades.get_column("exit_time").to_numpy(), y=pnl,
                             name="Trade P&L", marker_color=[WIN if v > 0 else LOSS for v in pnl],
                             showlegend=False), row=4, col=1)
    fig.update_yaxes(type="log" if log_equity else "linear", row=2, col=1)
    fig.update_xaxes(showspikes=True, spikemode="across", spikesnap="cursor",
                     spikethickness=1, spikedash="dot", spikecolor="#64748b")
    fig.update_xaxes(rangeslider_visible=False)
    fig = base_layout(fig, 820, title)
    fig.update_layout(hovermode="x unified", hoverdistance=-1, spikedistance=-1,
                      legend=dict(orientation="h", yanchor="bottom", y=1.03, xanchor="right",
                                  x=1))
    return fig


def monthly_returns(equity: pl.DataFrame) -> pl.DataFrame:
    """``year``, ``month``, ``return_pct``: each calendar month's return from the equity at
    the previous month's last bar (the first bar's equity for the first month) to this
    month's last bar."""
    if equity.height == 0:
        return pl.DataFrame(schema={"year": pl.Int32, "month": pl.Int8,
                                    "return_pct": pl.Float64})
    first = float(equity.get_column("equity")[0])
    ends = (equity.sort("timestamp")
            .group_by(pl.col("timestamp").dt.year().alias("year"),
                      pl.col("timestamp").dt.month().alias("month"), maintain_order=True)
            .agg(pl.col("equity").last().alias("end")))
    prev = ends.get_column("end").shift(1).fill_null(first)
    return ends.with_columns(
        ((pl.col("end") / prev - 1.0) * 100.0).alias("return_pct")
    ).select("year", "month", "return_pct")


def monthly_heatmap(monthly: pl.DataFrame, *, title: str = "Monthly returns %") -> go.Figure:
    """Year × month grid of :func:`monthly_returns`, red to green around 0, each cell
    labelled with its return."""
    years = sorted(set(monthly.get_column("year").to_list()))
    z = [[None] * 12 for _ in years]
    for r in monthly.iter_rows(named=True):
        z[years.index(r["year"])][r["month"] - 1] = r["return_pct"]
    text = [["" if v is None else f"{v:.1f}" for v in row] for row in z]
    vals = [abs(v) for row in z for v in row if v is not None]
    bound = max(vals) if vals else 1.0
    fig = go.Figure(go.Heatmap(
        z=z, x=list(MONTHS), y=[str(y) for y in years], text=text, texttemplate="%{text}",
        colorscale="RdYlGn", zmid=0, zmin=-bound, zmax=bound,
        hovertemplate="%{y} %{x}: %{z:.2f} %<extra></extra>",
        colorbar=dict(title=dict(text="%"))))
    fig.update_yaxes(autorange="reversed", type="category")
    fig = base_layout(fig, 120 + 28 * max(1, len(years)), title)
    fig.update_layout(hovermode="closest")
    return fig
