"""Figures and tables of the Walk-forward tab: engine records in, ``go.Figure`` / frames out.

Pure drawing, like :mod:`ui.charts`: no streamlit, no engine calls. The inputs are what
:mod:`engine.walkforward` returns: the stitched ``equity`` frame (``timestamp``, ``equity``,
``buy_hold_equity``, ``window``), ``WindowInfo`` objects and the ``gene_stability``
document of an analysis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from ui.charts import base_layout, thin, x_values, y_values

STRATEGY, BUY_HOLD = "#2563eb", "#94a3b8"
WINDOW_SHADES = ("rgba(37,99,235,0.06)", "rgba(234,88,12,0.06)")
#: Metrics of each window in the per-window table: (metric, column label).
WINDOW_METRICS: tuple[tuple[str, str], ...] = (
    ("total_return_pct", "return %"),
    ("cagr_pct", "CAGR %"),
    ("sharpe", "Sharpe"),
    ("max_drawdown_pct", "max DD %"),
    ("n_trades", "trades"),
)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def window_bounds(equity: pl.DataFrame) -> list[tuple[int, Any, Any]]:
    """``(window, first timestamp, last timestamp)`` of each window in the stitched curve."""
    g = (equity.group_by("window", maintain_order=True)
         .agg(pl.col("timestamp").first().alias("a"), pl.col("timestamp").last().alias("b")))
    return [(int(r["window"]), r["a"], r["b"]) for r in g.iter_rows(named=True)]


def stitched_chart(equity: pl.DataFrame, *,
                   title: str = "Stitched out-of-sample equity vs buy-and-hold") -> go.Figure:
    """The stitched curve and buy-and-hold over the same bars; each window shaded."""
    eq = thin(equity)
    x = x_values(eq)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=y_values(eq, "buy_hold_equity"), name="Buy & hold",
                             mode="lines", line=dict(color=BUY_HOLD, width=1.4)))
    fig.add_trace(go.Scatter(x=x, y=y_values(eq, "equity"), name="Walk-forward (out of "
                             "sample)", mode="lines", line=dict(color=STRATEGY, width=1.8)))
    for i, (k, a, b) in enumerate(window_bounds(equity)):
        fig.add_vrect(x0=a, x1=b, fillcolor=WINDOW_SHADES[i % 2], line_width=0, layer="below",
                      annotation_text=f"w{k}", annotation_position="top left",
                      annotation_font_size=10)
    fig.update_yaxes(title_text="Equity")
    return base_layout(fig, 360, title)


def windows_frame(windows: Sequence[Any], efficiency: Mapping[str, Any] | None = None
                  ) -> pl.DataFrame:
    """One row per window: dates, in-sample and out-of-sample metrics, efficiency."""
    efficiency = efficiency or {}
    rows = []
    for w in windows:
        ins, oos = w.in_sample or {}, w.out_of_sample or {}
        row: dict[str, Any] = {
            "window": w.window, "in-sample": f"{w.is_start:%Y-%m-%d} → {w.is_end:%Y-%m-%d}",
            "out-of-sample": f"{w.oos_start:%Y-%m-%d} → {w.oos_end:%Y-%m-%d}",
            "evolution run": w.evolution_run_id, "status": "done" if w.finished else "pending"}
        for m, label in WINDOW_METRICS:
            row[f"IS {label}"] = _num(ins.get(m))
        for m, label in WINDOW_METRICS:
            row[f"OOS {label}"] = _num(oos.get(m))
        row["efficiency"] = _num(efficiency.get(str(w.window)))
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def genes_frame(windows: Sequence[Any]) -> pl.DataFrame:
    """The chosen genes, one row per window."""
    return pl.DataFrame([{"window": w.window, **(w.genes or {})} for w in windows
                         if w.genes], infer_schema_length=None)


def gene_stability_chart(stability: Mapping[str, Any], *,
                         title: str = "Gene stability across windows") -> go.Figure:
    """Left: each gene's value per window scaled to its range (0 = low end, 1 = high end),
    one line per window; right: each gene's dispersion (0 = the same in every window,
    ≈1 = as scattered as random choices)."""
    genes = stability.get("genes") or {}
    names = list(genes)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.12,
                        subplot_titles=("Scaled gene value per window", "Dispersion"))
    n_windows = max((len(g["values"]) for g in genes.values()), default=0)
    for k in range(n_windows):
        scaled = [(genes[n]["values"][k] - genes[n]["low"]) / (genes[n]["high"] - genes[n]["low"])
                  for n in names]
        fig.add_trace(go.Scatter(x=scaled, y=names, mode="markers+lines", name=f"window {k}",
                                 marker=dict(size=8), line=dict(width=0.8)), row=1, col=1)
    disp = [_num(genes[n].get("dispersion")) for n in names]
    fig.add_trace(go.Bar(x=[d if d is not None else 0 for d in disp], y=names,
                         orientation="h", name="dispersion", marker_color="#9333ea",
                         showlegend=False), row=1, col=2)
    fig.update_xaxes(range=[-0.05, 1.05], row=1, col=1)
    fig.update_yaxes(autorange="reversed")
    base_layout(fig, 150 + 26 * len(names), title)
    fig.update_layout(hovermode="closest", margin=dict(l=10, r=10, t=60, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.06, xanchor="left",
                                  x=0))  # below the plots: the subplot titles stay clear
    return fig
