"""Figures and tables of the Evolution page: engine records in, ``go.Figure`` / frames out.

Pure drawing, like :mod:`ui.charts`: no streamlit, no engine calls, no business rules. The
inputs are what :mod:`engine.evolution` returns (``GenerationStats.to_dict()`` records,
``IndividualInfo`` objects, ``parameter_distribution`` / ``parameter_importance``, the
``BacktestResult`` frames of an ``IndividualDetail``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from ui.charts import LINE_COLORS, base_layout, thin, x_values, y_values

BEST, MEAN, WORST, DIVERSITY = "#16a34a", "#2563eb", "#dc2626", "#9333ea"
#: Colour of each overfitting verdict (engine.evolution.overfitting).
VERDICT_COLORS = {"robust": "green", "possibly overfit": "orange", "likely overfit": "red",
                  "inconclusive": "gray"}
#: Metrics shown for each individual in the population table: (metric, column label).
TABLE_METRICS: tuple[tuple[str, str], ...] = (
    ("total_return_pct", "return %"),
    ("sharpe", "Sharpe"),
    ("max_drawdown_pct", "max DD %"),
    ("n_trades", "trades"),
)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


# ------------------------------------------------------------------------------- tables

def distinct(individuals: Sequence[Any]) -> list[tuple[Any, int]]:
    """Each genome once (by uid: an elite or a migrant is the same individual on several
    islands or slots) with how many copies the population holds, best fitness first."""
    counts: dict[int, int] = {}
    first: dict[int, Any] = {}
    for i in individuals:
        counts[i.uid] = counts.get(i.uid, 0) + 1
        first.setdefault(i.uid, i)
    ranked = sorted(first.values(), key=lambda i: -(_num(i.fitness) or -math.inf))
    return [(i, counts[i.uid]) for i in ranked]


def population_frame(individuals: Sequence[Any]) -> pl.DataFrame:
    """One row per distinct individual (``copies`` counts its clones), best fitness first:
    ids, fitness, in-sample and out-of-sample metrics, age, parents, then the 15 genes."""
    pairs = distinct(individuals)
    inds = [i for i, _ in pairs]
    islands: dict[int, set[int]] = {}
    for i in individuals:
        islands.setdefault(i.uid, set()).add(i.island)
    data: dict[str, list] = {
        "uid": [i.uid for i in inds],
        "copies": [n for _, n in pairs],
        "island": [", ".join(str(k) for k in sorted(islands[i.uid])) for i in inds],
        "fitness": [_num(i.fitness) for i in inds],
    }
    for window, label in (("in_sample", "IS"), ("out_of_sample", "OOS")):
        for metric, col in TABLE_METRICS:
            data[f"{label} {col}"] = [_num((getattr(i, window) or {}).get(metric)) for i in inds]
    data["age"] = [i.age for i in inds]
    data["born"] = [i.born for i in inds]
    data["parents"] = [", ".join(str(p) for p in i.parents) or "—" for i in inds]
    genes = list(inds[0].params) if inds else []
    for g in genes:
        data[g] = [_num(i.params.get(g)) for i in inds]
    schema = {k: (pl.Int64 if k in ("uid", "copies", "age", "born") else
                  pl.String if k in ("parents", "island") else pl.Float64) for k in data}
    return pl.DataFrame(data, schema=schema)


def metrics_frame(in_sample: Mapping[str, Any] | None,
                  out_of_sample: Mapping[str, Any] | None) -> pl.DataFrame:
    """Metric × {in-sample, out-of-sample} for the inspector (undefined metrics blank)."""
    from engine.backtest import defined_metrics

    in_sample = defined_metrics(in_sample) if in_sample else in_sample
    out_of_sample = defined_metrics(out_of_sample) if out_of_sample else out_of_sample
    names = list(in_sample or {}) + [k for k in (out_of_sample or {}) if k not in (in_sample or {})]
    names = [n for n in names if n != "periods_per_year"]
    return pl.DataFrame({
        "metric": names,
        "in-sample": [_num((in_sample or {}).get(n)) for n in names],
        "out-of-sample": [_num((out_of_sample or {}).get(n)) for n in names],
    }, schema={"metric": pl.String, "in-sample": pl.Float64, "out-of-sample": pl.Float64})


def params_frame(params: Mapping[str, Any]) -> pl.DataFrame:
    """The genes of one individual as a two-column table."""
    return pl.DataFrame({"gene": list(params),
                         "value": [f"{v:.4g}" if isinstance(v, float) else str(v)
                                   for v in params.values()]})


def trades_frame(in_sample: pl.DataFrame | None, out_of_sample: pl.DataFrame | None
                 ) -> pl.DataFrame:
    """Both windows' trades in one table with a ``window`` column."""
    parts = [t.with_columns(pl.lit(label).alias("window"))
             for label, t in (("in-sample", in_sample), ("out-of-sample", out_of_sample))
             if t is not None and t.height]
    if not parts:
        return pl.DataFrame()
    out = pl.concat(parts, how="diagonal_relaxed")
    return out.select("window", *[c for c in out.columns if c != "window"])


# ------------------------------------------------------------------------------ figures

def history_chart(history: Sequence[Mapping[str, Any]], *, height: int = 360,
                  title: str = "Fitness and diversity per generation") -> go.Figure:
    """Best / mean / worst fitness (left axis) and diversity (right axis, dotted)."""
    gens = [h["generation"] for h in history]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for key, name, color, width in (("best", "Best", BEST, 2.2), ("mean", "Mean", MEAN, 1.6),
                                    ("worst", "Worst", WORST, 1.2)):
        fig.add_trace(go.Scatter(x=gens, y=[_num(h.get(key)) for h in history], name=name,
                                 mode="lines+markers", line=dict(color=color, width=width),
                                 marker=dict(size=5)), secondary_y=False)
    fig.add_trace(go.Scatter(x=gens, y=[_num(h.get("diversity")) for h in history],
                             name="Diversity", mode="lines",
                             line=dict(color=DIVERSITY, width=1.4, dash="dot")),
                  secondary_y=True)
    fig.update_xaxes(title_text="Generation", dtick=max(1, len(gens) // 10) if gens else 1)
    fig.update_yaxes(title_text="Fitness", secondary_y=False)
    fig.update_yaxes(title_text="Diversity", range=[0, 1.05], secondary_y=True,
                     showgrid=False)
    return base_layout(fig, height, title)


def pareto_chart(population: Sequence[Any], front_uids: Sequence[int], x: str, y: str,
                 color: str | None = None, *, selected: int | None = None) -> go.Figure:
    """The latest population on two objectives, the Pareto front highlighted and joined.

    Each point carries its ``uid`` in ``customdata`` (read back from a Plotly selection).
    """
    front = set(front_uids)

    def obj(i: Any, name: str | None) -> float | None:
        if name is None:
            return None
        return _num(i.objectives.get(name, i.in_sample.get(name)))

    fig = go.Figure()
    rest = [i for i in population if i.uid not in front]
    top = sorted((i for i in population if i.uid in front),
                 key=lambda i: (obj(i, x) is None, obj(i, x) or 0.0))
    hover = ("uid %{customdata}<br>" + f"{x} " + "%{x:.3f}<br>" + f"{y} " + "%{y:.3f}"
             + ("<br>" + f"{color} " + "%{marker.color:.3f}" if color else "")
             + "<extra>%{fullData.name}</extra>")
    if rest:
        fig.add_trace(go.Scatter(
            x=[obj(i, x) for i in rest], y=[obj(i, y) for i in rest], mode="markers",
            name="Dominated", customdata=[i.uid for i in rest], hovertemplate=hover,
            marker=dict(size=8, color="#cbd5e1", line=dict(color="#64748b", width=1))))
    if top:
        marker: dict[str, Any] = dict(size=12, line=dict(color="#0f172a", width=1))
        if color:
            marker |= dict(color=[obj(i, color) for i in top], colorscale="Viridis",
                           showscale=True, colorbar=dict(title=dict(text=color)))
        else:
            marker |= dict(color=LINE_COLORS[0])
        fig.add_trace(go.Scatter(
            x=[obj(i, x) for i in top], y=[obj(i, y) for i in top], mode="markers+lines",
            name="Pareto front", customdata=[i.uid for i in top], hovertemplate=hover,
            line=dict(color="#94a3b8", width=1, dash="dot"), marker=marker))
    if selected is not None:
        sel = [i for i in population if i.uid == selected]
        if sel:
            fig.add_trace(go.Scatter(
                x=[obj(sel[0], x)], y=[obj(sel[0], y)], mode="markers", name="Inspected",
                customdata=[selected], hovertemplate=hover,
                marker=dict(size=20, symbol="circle-open", color="#f59e0b",
                            line=dict(width=3))))
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    fig = base_layout(fig, 420, f"Pareto front: {x} vs {y} (all maximised)")
    fig.update_layout(hovermode="closest")  # Streamlit sets click-to-select (on_select)
    return fig


def distribution_chart(dist: pl.DataFrame, genes: Sequence[str], *, cols: int = 3
                       ) -> go.Figure:
    """Each gene over the generations: median line inside the 10–90 % band, min–max faint.

    ``dist`` is ``parameter_distribution(run_id)`` (one row per population member).
    """
    rows = max(1, math.ceil(len(genes) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(genes),
                        vertical_spacing=0.28 / rows + 0.02, horizontal_spacing=0.06)
    if dist.height == 0:
        return base_layout(fig, 200, "")
    stats = (dist.group_by("generation").agg(
        *[pl.col(g).quantile(q, "linear").alias(f"{g}|{n}") for g in genes
          for q, n in ((0.0, "min"), (0.1, "lo"), (0.5, "med"), (0.9, "hi"), (1.0, "max"))])
        .sort("generation"))
    gx = stats.get_column("generation").to_numpy()
    for k, g in enumerate(genes):
        r, c = k // cols + 1, k % cols + 1
        def col(n: str, g: str = g) -> Any:
            return stats.get_column(f"{g}|{n}").to_numpy()

        for lo, hi, alpha in (("min", "max", 0.08), ("lo", "hi", 0.22)):
            fig.add_trace(go.Scatter(x=gx, y=col(hi), mode="lines", line=dict(width=0),
                                     showlegend=False, hoverinfo="skip"), row=r, col=c)
            fig.add_trace(go.Scatter(x=gx, y=col(lo), mode="lines", line=dict(width=0),
                                     fill="tonexty", fillcolor=f"rgba(37,99,235,{alpha})",
                                     showlegend=False, hoverinfo="skip"), row=r, col=c)
        fig.add_trace(go.Scatter(x=gx, y=col("med"), mode="lines", name=g, showlegend=False,
                                 line=dict(color=MEAN, width=1.6),
                                 hovertemplate=f"{g}<br>generation %{{x}}<br>median "
                                               "%{y:.4g}<extra></extra>"), row=r, col=c)
    n_gen = int(gx.max()) + 1 if gx.size else 1
    fig.update_xaxes(dtick=max(1, math.ceil(n_gen / 6)), tick0=0)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=170 * rows + 40, margin=dict(l=10, r=10, t=30, b=10),
                      hovermode="closest")
    return fig


def importance_chart(importance: Mapping[str, float]) -> go.Figure:
    """|Spearman ρ(gene, fitness)| per gene, most important on top."""
    items = sorted(importance.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(
        x=[v for _, v in items], y=[k for k, _ in items], orientation="h",
        marker=dict(color=[v for _, v in items], colorscale="Blues", cmin=0, cmax=1),
        hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_xaxes(title_text="|Spearman ρ| with fitness", range=[0, 1])
    fig = base_layout(fig, 80 + 24 * len(items), "Parameter importance")
    fig.update_layout(hovermode="closest")
    return fig


def split_equity_chart(in_sample: pl.DataFrame, out_of_sample: pl.DataFrame | None, *,
                       title: str = "Equity in-sample and out-of-sample vs buy-and-hold"
                       ) -> go.Figure:
    """Strategy and buy-and-hold equity of both windows (each starts from the run's cash),
    the out-of-sample part shaded."""
    fig = go.Figure()
    for eq, label, color in ((in_sample, "in-sample", LINE_COLORS[0]),
                             (out_of_sample, "out-of-sample", LINE_COLORS[2])):
        if eq is None or eq.height == 0:
            continue
        eq = thin(eq)
        x = x_values(eq)
        fig.add_trace(go.Scatter(x=x, y=y_values(eq, "buy_hold_equity"), mode="lines",
                                 name=f"Buy & hold ({label})",
                                 line=dict(color="#94a3b8", width=1.2,
                                           dash="solid" if label == "in-sample" else "dot")))
        fig.add_trace(go.Scatter(x=x, y=y_values(eq, "equity"), mode="lines",
                                 name=f"Strategy ({label})", line=dict(color=color, width=1.8)))
    if out_of_sample is not None and out_of_sample.height:
        ts = out_of_sample.get_column("timestamp")
        fig.add_vrect(x0=ts[0], x1=ts[-1], fillcolor="#f59e0b", opacity=0.08, line_width=0,
                      annotation_text="out-of-sample", annotation_position="top left")
    fig.update_yaxes(title_text="Equity")
    fig = base_layout(fig, 400, title)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.08, xanchor="left", x=0))
    return fig


def progress_sparkline(history: Sequence[Mapping[str, Any]]) -> go.Figure:
    """A small best/mean fitness line for the live progress panel."""
    gens = [h["generation"] for h in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=gens, y=[_num(h.get("best")) for h in history], name="Best",
                             mode="lines+markers", line=dict(color=BEST, width=2)))
    fig.add_trace(go.Scatter(x=gens, y=[_num(h.get("mean")) for h in history], name="Mean",
                             mode="lines", line=dict(color=MEAN, width=1.4)))
    fig.update_xaxes(title_text="Generation")
    return base_layout(fig, 200, "")



def fmt_fitness(value: Any) -> str:
    """A fitness for a label: four decimals, "n/a" when it has none."""
    v = _num(value)
    return "n/a" if v is None else f"{v:.4f}"
