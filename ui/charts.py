"""Plotly figure builders: engine output in, ``go.Figure`` out.

Pure drawing: no streamlit, no engine calls, no business rules. Each builder takes the
frames or records the engine returns (column names as documented by the engine) and the
names of the columns to draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

#: Shading colour of each market regime (engine.market.regimes labels).
REGIME_COLORS: dict[str, str] = {
    "bull": "#16a34a",
    "bear": "#dc2626",
    "sideways": "#94a3b8",
    "high_volatility": "#f59e0b",
}
REGIME_LABELS: dict[str, str] = {
    "bull": "Bull",
    "bear": "Bear",
    "sideways": "Sideways",
    "high_volatility": "High volatility",
}
#: Marker colour of each exit reason (engine.backtest trades ``exit_reason``).
EXIT_COLORS: dict[str, str] = {
    "signal": "#2563eb",
    "stop_loss": "#dc2626",
    "take_profit": "#16a34a",
    "end": "#6b7280",
}
UP, DOWN = "#16a34a", "#dc2626"
LINE_COLORS = ("#2563eb", "#0891b2", "#ea580c", "#4d7c0f", "#9333ea")
REGIME_OPACITY = 0.13
#: Line charts with more points than this are thinned (every k-th point) for the browser.
MAX_LINE_POINTS = 20_000


def x_values(df: pl.DataFrame, col: str = "timestamp") -> np.ndarray:
    """A column as the x of a trace (NumPy: Plotly serialises it far faster than a list)."""
    return df.get_column(col).to_numpy()


def y_values(df: pl.DataFrame, col: str) -> np.ndarray:
    """A column as float y values (nulls become NaN, drawn as gaps)."""
    return df.get_column(col).cast(pl.Float64).to_numpy()


def thin(df: pl.DataFrame) -> pl.DataFrame:
    """Every k-th row when there are more than MAX_LINE_POINTS (the browser stays fluid)."""
    if df.height <= MAX_LINE_POINTS:
        return df
    step = int(np.ceil(df.height / MAX_LINE_POINTS))
    return df.gather_every(step)


def base_layout(fig: go.Figure, height: int, title: str = "") -> go.Figure:
    """The app's figure frame: height, tight margins, a title, a legend above the plot."""
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        title=dict(text=title) if title else None,
        hovermode="x unified",
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="right", x=1),
        xaxis_rangeslider_visible=False,
    )
    return fig


# ------------------------------------------------------------------------------- market

def regime_shapes(spans: Sequence[Mapping[str, Any]], *, yref: str = "y domain",
                  xref: str = "x") -> list[dict[str, Any]]:
    """One vertical rectangle per regime span, behind the data, edge to edge.

    ``spans`` are ``{"start", "end", "regime"}`` runs (engine.market.regimes.regime_spans);
    each rectangle reaches the next span's start so consecutive spans leave no gap.
    Unknown (warm-up) spans are left unshaded.
    """
    shapes = []
    for i, span in enumerate(spans):
        color = REGIME_COLORS.get(str(span["regime"]))
        if color is None:
            continue
        x1 = spans[i + 1]["start"] if i + 1 < len(spans) else span["end"]
        shapes.append(dict(
            type="rect", xref=xref, yref=yref, x0=span["start"], x1=x1, y0=0, y1=1,
            fillcolor=color, opacity=REGIME_OPACITY, layer="below", line_width=0,
        ))
    return shapes


def market_chart(
    df: pl.DataFrame,
    *,
    lines: Sequence[str] = (),
    band: tuple[str, ...] | None = None,
    volume: bool = True,
    volume_line: str | None = None,
    rsi: str | None = None,
    rsi_levels: tuple[float, float] = (30.0, 70.0),
    macd: tuple[str, str, str] | None = None,
    regimes: Sequence[Mapping[str, Any]] = (),
    title: str = "",
) -> go.Figure:
    """Candlesticks with overlays, and volume / RSI / MACD panels sharing the time axis.

    ``df`` is a canonical OHLCV frame plus the indicator columns named in ``lines`` (drawn
    over the price), ``band`` (upper, lower[, middle] — filled between), ``rsi`` and
    ``macd`` (line, signal, histogram). ``regimes`` are the spans shaded behind the price,
    with a colour key in the legend.
    """
    panels = ["price"] + (["volume"] if volume else []) + (["rsi"] if rsi else []) \
        + (["macd"] if macd else [])
    weights = {"price": 0.58, "volume": 0.14, "rsi": 0.14, "macd": 0.14}
    heights = [weights[p] for p in panels]
    total = sum(heights)
    titles = {"price": "", "volume": "Volume", "rsi": rsi or "", "macd": "MACD"}
    fig = make_subplots(
        rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.035,
        row_heights=[h / total for h in heights],
        subplot_titles=[titles[p] for p in panels],
    )
    row = {p: i + 1 for i, p in enumerate(panels)}
    x = x_values(df)
    fig.add_trace(go.Candlestick(
        x=x, open=y_values(df, "open"), high=y_values(df, "high"), low=y_values(df, "low"),
        close=y_values(df, "close"),
        name="Price", increasing_line_color=UP, decreasing_line_color=DOWN,
        increasing_fillcolor=UP, decreasing_fillcolor=DOWN, line_width=1,
    ), row=1, col=1)
    if band:
        upper, lower = band[:2]
        fig.add_trace(go.Scatter(x=x, y=y_values(df, upper), name=upper, mode="lines",
                                 line=dict(color="#64748b", width=1), legendgroup="band"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=y_values(df, lower), name=lower, mode="lines",
                                 line=dict(color="#64748b", width=1), legendgroup="band",
                                 fill="tonexty", fillcolor="rgba(100,116,139,0.10)"),
                      row=1, col=1)
    for i, col in enumerate(lines):
        fig.add_trace(go.Scatter(x=x, y=y_values(df, col), name=col, mode="lines",
                                 line=dict(color=LINE_COLORS[i % len(LINE_COLORS)], width=1.4)),
                      row=1, col=1)
    if band and len(band) > 2:  # the middle band, dashed like the band's edges
        fig.add_trace(go.Scatter(x=x, y=y_values(df, band[2]), name=band[2], mode="lines",
                                 line=dict(color="#64748b", width=1, dash="dash"),
                                 legendgroup="band"), row=1, col=1)
    if volume:
        up = (df.get_column("close") >= df.get_column("open")).to_numpy()
        fig.add_trace(go.Bar(x=x, y=y_values(df, "volume"), name="Volume", showlegend=False,
                             marker_color=np.where(up, UP, DOWN), marker_line_width=0,
                             opacity=0.55), row=row["volume"], col=1)
        if volume_line:
            fig.add_trace(go.Scatter(x=x, y=y_values(df, volume_line), name=volume_line,
                                     mode="lines", line=dict(color="#334155", width=1)),
                          row=row["volume"], col=1)
    if rsi:
        fig.add_trace(go.Scatter(x=x, y=y_values(df, rsi), name=rsi, mode="lines",
                                 line=dict(color="#7c3aed", width=1.3)), row=row["rsi"], col=1)
        for level in rsi_levels:
            fig.add_hline(y=level, line=dict(color="#94a3b8", width=1, dash="dot"),
                          row=row["rsi"], col=1)
        fig.update_yaxes(range=[0, 100], row=row["rsi"], col=1)
    if macd:
        line, signal, hist = macd
        h = y_values(df, hist)
        fig.add_trace(go.Bar(x=x, y=h, name=hist, showlegend=False, marker_line_width=0,
                             marker_color=np.where(np.nan_to_num(h) >= 0, UP, DOWN),
                             opacity=0.5), row=row["macd"], col=1)
        fig.add_trace(go.Scatter(x=x, y=y_values(df, line), name=line, mode="lines",
                                 line=dict(color="#2563eb", width=1.2)), row=row["macd"], col=1)
        fig.add_trace(go.Scatter(x=x, y=y_values(df, signal), name=signal, mode="lines",
                                 line=dict(color="#ea580c", width=1.2)), row=row["macd"], col=1)
    if regimes:
        fig.layout.shapes = [*fig.layout.shapes, *regime_shapes(regimes)]
        present = [r for r in REGIME_COLORS if any(s["regime"] == r for s in regimes)]
        for r in present:  # colour key: legend entries for the shading
            fig.add_trace(go.Scatter(
                x=[None], y=[None], mode="markers", name=f"{REGIME_LABELS[r]} regime",
                marker=dict(symbol="square", size=13, color=REGIME_COLORS[r], opacity=0.45),
                legendgroup="regimes", hoverinfo="skip",
            ), row=1, col=1)
    fig.update_yaxes(title_text="Price", row=1, col=1)
    fig.update_xaxes(rangeslider_visible=False)
    return base_layout(fig, 430 + 140 * (len(panels) - 1), title)


# ------------------------------------------------------------------------------ backtest

def equity_chart(equity: pl.DataFrame, *, title: str = "Equity vs buy-and-hold") -> go.Figure:
    """Strategy equity and buy-and-hold equity (engine ``BacktestResult.equity``)."""
    eq = thin(equity)
    x = x_values(eq)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=y_values(eq, "buy_hold_equity"), name="Buy & hold",
                             mode="lines", line=dict(color="#94a3b8", width=1.4)))
    fig.add_trace(go.Scatter(x=x, y=y_values(eq, "equity"), name="Strategy", mode="lines",
                             line=dict(color="#2563eb", width=1.8)))
    fig.update_yaxes(title_text="Equity")
    return base_layout(fig, 340, title)


def drawdown_chart(equity: pl.DataFrame, *, title: str = "Drawdown") -> go.Figure:
    """Drawdown of the strategy's equity in % (≤ 0), as a filled area."""
    eq = thin(equity)
    fig = go.Figure(go.Scatter(
        x=x_values(eq), y=y_values(eq, "drawdown_pct"), name="Drawdown %", mode="lines",
        fill="tozeroy",
        line=dict(color="#dc2626", width=1), fillcolor="rgba(220,38,38,0.18)",
    ))
    fig.update_yaxes(title_text="Drawdown %", ticksuffix="%")
    return base_layout(fig, 240, title)


def trades_chart(equity: pl.DataFrame, trades: pl.DataFrame, *,
                 regimes: Sequence[Mapping[str, Any]] = (),
                 title: str = "Price and trades") -> go.Figure:
    """Close price with entry markers (▲ long, ▼ short) and exits coloured by reason."""
    eq = thin(equity)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x_values(eq), y=y_values(eq, "close"), name="Close", mode="lines",
                             line=dict(color="#334155", width=1.2)))
    if trades.height:
        side = np.where(y_values(trades, "size") >= 0, "long", "short")
        pnl = y_values(trades, "pnl")
        ret = y_values(trades, "return_pct")
        for label, symbol, color, mask in (
            ("Entry (long)", "triangle-up", UP, side == "long"),
            ("Entry (short)", "triangle-down", DOWN, side == "short"),
        ):
            if not mask.any():
                continue
            fig.add_trace(go.Scatter(
                x=x_values(trades, "entry_time")[mask], y=y_values(trades, "entry_price")[mask],
                mode="markers", name=label,
                marker=dict(symbol=symbol, size=10, color=color,
                            line=dict(color="white", width=1)),
                hovertemplate="entry %{x}<br>price %{y:.2f}<extra>" + label + "</extra>",
            ))
        reasons = trades.get_column("exit_reason").to_numpy()
        for reason, color in EXIT_COLORS.items():
            mask = reasons == reason
            if not mask.any():
                continue
            fig.add_trace(go.Scatter(
                x=x_values(trades, "exit_time")[mask], y=y_values(trades, "exit_price")[mask],
                mode="markers", name=f"Exit: {reason.replace('_', ' ')}",
                marker=dict(symbol="x", size=9, color=color, line=dict(width=1)),
                customdata=np.column_stack([pnl[mask], ret[mask]]),
                hovertemplate=("exit %{x}<br>price %{y:.2f}<br>pnl %{customdata[0]:,.2f}"
                               " (%{customdata[1]:+.2f}%)<extra>" + reason + "</extra>"),
            ))
    if regimes:
        fig.layout.shapes = [*fig.layout.shapes, *regime_shapes(regimes)]
    fig.update_yaxes(title_text="Price")
    return base_layout(fig, 380, title)


# --------------------------------------------------------------------------------- sweep

def _metric(rec: Mapping[str, Any], metric: str) -> float:
    v = rec["metrics"].get(metric)
    return float("nan") if v is None else float(v)


def sweep_heatmap(results: Sequence[Mapping[str, Any]], x_param: str, y_param: str,
                  metric: str) -> go.Figure:
    """A heatmap of ``metric`` over two swept parameters (engine ``SweepResult.results``).

    Combinations the engine skipped (constraints such as fast < slow) stay blank.
    """
    xs = sorted({r["params"][x_param] for r in results})
    ys = sorted({r["params"][y_param] for r in results})
    xi = {v: i for i, v in enumerate(xs)}
    yi = {v: i for i, v in enumerate(ys)}
    z = np.full((len(ys), len(xs)), np.nan)
    for r in results:
        z[yi[r["params"][y_param]], xi[r["params"][x_param]]] = _metric(r, metric)
    finite = z[np.isfinite(z)]
    # centre the colours on 0 when the metric takes both signs (returns, Sharpe…)
    zmid = 0.0 if finite.size and finite.min() < 0 < finite.max() else None
    fig = go.Figure(go.Heatmap(
        x=[str(v) for v in xs], y=[str(v) for v in ys], z=z, colorscale="RdYlGn", zmid=zmid,
        colorbar=dict(title=dict(text=metric)), hoverongaps=False,
        hovertemplate=f"{x_param}=%{{x}}<br>{y_param}=%{{y}}<br>{metric}=%{{z:.3f}}<extra></extra>",
    ))
    fig.update_xaxes(title_text=x_param, type="category")
    fig.update_yaxes(title_text=y_param, type="category")
    fig = base_layout(fig, 460, f"{metric} by {x_param} and {y_param}")
    fig.update_layout(hovermode="closest")
    return fig


def sweep_line(results: Sequence[Mapping[str, Any]], param: str, metric: str) -> go.Figure:
    """``metric`` against one swept parameter."""
    pts = sorted((r["params"][param], _metric(r, metric)) for r in results)
    fig = go.Figure(go.Scatter(x=[p for p, _ in pts], y=[m for _, m in pts], mode="lines+markers",
                               name=metric, line=dict(color="#2563eb")))
    fig.update_xaxes(title_text=param)
    fig.update_yaxes(title_text=metric)
    fig = base_layout(fig, 380, f"{metric} by {param}")
    fig.update_layout(hovermode="closest")
    return fig
