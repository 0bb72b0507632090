"""Sweep results as optuna-dashboard shows trials: a flat table of every combination,
filtered by a metric, drawn as parallel coordinates over the swept parameters.

Pure: ``SweepResult.results`` records in (``{"params", "metrics"}``), frames and figures
out; no streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl

from ui.charts import base_layout


def results_frame(results: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> pl.DataFrame:
    """One row per backtest: the swept parameters, then every metric (None stays null)."""
    metrics: list[str] = []
    for r in results:
        metrics += [m for m in r["metrics"] if m not in metrics]
    return pl.DataFrame(
        {**{k: [float(r["params"][k]) for r in results] for k in keys},
         **{m: [r["metrics"].get(m) for r in results] for m in metrics}},
        schema_overrides={m: pl.Float64 for m in metrics},
    )


def filter_frame(frame: pl.DataFrame, metric: str, at_least: float | None) -> pl.DataFrame:
    """The trials whose ``metric`` is at least ``at_least`` (None: all with a value)."""
    kept = frame.filter(pl.col(metric).is_not_null())
    return kept if at_least is None else kept.filter(pl.col(metric) >= at_least)


def parallel_coordinates(frame: pl.DataFrame, keys: Sequence[str], metric: str) -> go.Figure:
    """One line per trial through every swept parameter to the metric, coloured by it."""
    dims = [dict(label=k, values=frame.get_column(k).to_list()) for k in keys]
    dims.append(dict(label=metric, values=frame.get_column(metric).to_list()))
    fig = go.Figure(go.Parcoords(
        line=dict(color=frame.get_column(metric).to_list(), colorscale="Viridis",
                  showscale=True, colorbar=dict(title=dict(text=metric))),
        dimensions=dims))
    return base_layout(fig, 380, f"Parallel coordinates: parameters → {metric}")


def holdout_frame(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], metric: str
                  ) -> pl.DataFrame:
    """In-sample beside out-of-sample for each combination (``HoldoutSweep.rows()``, best
    in-sample first): the parameters, the metric and the total return in both windows."""
    cols = [f"is_{metric}", f"oos_{metric}", "is_total_return_pct", "oos_total_return_pct"]
    cols = list(dict.fromkeys(cols))
    return pl.DataFrame({**{k: [float(r[k]) for r in rows] for k in keys},
                         **{c: [r.get(c) for r in rows] for c in cols}},
                        schema_overrides={c: pl.Float64 for c in cols})


def is_oos_scatter(frame: pl.DataFrame, keys: Sequence[str], metric: str) -> go.Figure:
    """Each combination at (in-sample, out-of-sample) ``metric``, with the y = x line: a
    point below it did worse on the bars it was not chosen on."""
    x = frame.get_column(f"is_{metric}").to_list()
    y = frame.get_column(f"oos_{metric}").to_list()
    text = [", ".join(f"{k}={frame[k][i]:g}" for k in keys) for i in range(frame.height)]
    fig = go.Figure(go.Scatter(x=x, y=y, mode="markers", text=text, name="combination",
                               hovertemplate="%{text}<br>IS %{x:.3f} · OOS %{y:.3f}"
                                             "<extra></extra>"))
    vals = [v for v in x + y if v is not None]
    if vals:
        lo, hi = min(vals), max(vals)
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="y = x",
                                 line=dict(color="#94a3b8", dash="dot")))
    fig.update_xaxes(title_text=f"in-sample {metric}")
    fig.update_yaxes(title_text=f"out-of-sample {metric}")
    fig = base_layout(fig, 380, f"In-sample vs out-of-sample {metric}")
    fig.update_layout(hovermode="closest")
    return fig


def contour(frame: pl.DataFrame, x: str, y: str, metric: str) -> go.Figure:
    """``metric`` over two parameters as a contour (interpolated between the trials, as
    optuna-dashboard's contour plot), the trials drawn on top."""
    xs, ys = frame.get_column(x).to_list(), frame.get_column(y).to_list()
    zs = frame.get_column(metric).to_list()
    fig = go.Figure(go.Contour(x=xs, y=ys, z=zs, colorscale="Viridis", connectgaps=True,
                               contours=dict(coloring="heatmap"), name=metric,
                               colorbar=dict(title=dict(text=metric))))
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name="trials",
                             marker=dict(size=5, color="#0f172a", opacity=0.6),
                             hovertemplate=f"{x} %{{x}}<br>{y} %{{y}}<extra></extra>"))
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    fig = base_layout(fig, 420, f"Contour: {metric} over {x} and {y}")
    fig.update_layout(hovermode="closest")
    return fig


def slice_plot(frame: pl.DataFrame, keys: Sequence[str], metric: str) -> go.Figure:
    """One panel per parameter: each trial at (parameter value, ``metric``)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=max(1, len(keys)), shared_yaxes=True,
                        subplot_titles=list(keys))
    for i, k in enumerate(keys, start=1):
        fig.add_trace(go.Scatter(x=frame.get_column(k).to_list(),
                                 y=frame.get_column(metric).to_list(), mode="markers",
                                 name=k, showlegend=False, marker=dict(size=5, opacity=0.6)),
                      row=1, col=i)
    fig.update_yaxes(title_text=metric, row=1, col=1)
    fig = base_layout(fig, 300, f"Slice: {metric} against each parameter")
    fig.update_layout(hovermode="closest")
    return fig
