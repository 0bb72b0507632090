"""Figures of the Model Registry page: engine records in, ``go.Figure`` out.

Pure drawing, like :mod:`ui.charts`: no streamlit, no engine calls. The inputs are what
:mod:`engine.registry` returns: ``compare(...)["equity"]`` curves and a ``lineage(...)``
graph (``nodes`` with ``version_id``, ``depth``, ``status``, ``deployed_to``,
``model_type``, ``accuracy``; ``edges`` with ``source``, ``target``, ``relationship``;
``root``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from ui.formatting import fmt_pct

#: Edge colour of each lineage relationship (engine.registry relationships).
REL_COLORS = {"trained": "#6b7280", "retrained_from": "#2563eb", "promoted_from": "#16a34a",
              "parent": "#9333ea"}
#: Node colours: deployed somewhere, archived, any other version.
DEPLOYED, ARCHIVED, VERSION = "#16a34a", "#9ca3af", "#2563eb"
#: Line colours of compared versions, in order (A blue, B orange, then more).
PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#ca8a04")
#: Generations of room left and right of the outermost versions, for their id labels.
X_PAD = 0.75


def lineage_positions(graph: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Where each version is drawn: x = its generation (depth), the versions of one
    generation spread evenly around y = 0 in the order the engine lists them."""
    by_depth: dict[int, list[Mapping[str, Any]]] = {}
    for n in graph["nodes"]:
        by_depth.setdefault(n["depth"], []).append(n)
    pos: dict[str, tuple[float, float]] = {}
    for d, group in by_depth.items():
        for i, n in enumerate(group):
            pos[n["version_id"]] = (d, i - (len(group) - 1) / 2)
    return pos


def equity_overlay(curves: Mapping[str, Mapping[str, Any] | None], names: Mapping[str, str]
                   ) -> go.Figure:
    """The equity curves of a comparison (``compare(...)["equity"]``: key → {"x", "y"} or
    None when it could not be computed), in :data:`PALETTE` order (A blue, B orange, …),
    named by ``names[key]``; any number of versions."""
    fig = go.Figure()
    for i, (key, curve) in enumerate(curves.items()):
        if curve:
            fig.add_trace(go.Scatter(x=curve["x"], y=curve["y"], mode="lines", name=names[key],
                                     line={"color": PALETTE[i % len(PALETTE)]}))
    fig.update_layout(title="Equity curves", height=360, margin={"l": 10, "r": 10, "t": 40,
                                                                 "b": 10},
                      legend={"orientation": "h"})
    return fig


def lineage_figure(graph: Mapping[str, Any]) -> go.Figure:
    """Generations left to right (ancestors, the version, descendants); one line trace per
    relationship plus an arrow per edge; the chosen version (``root``) is drawn larger."""
    nodes = graph["nodes"]
    pos = lineage_positions(graph)
    fig = go.Figure()
    for rel, color in REL_COLORS.items():
        xs, ys = [], []
        for e in graph["edges"]:
            if e["relationship"] == rel:
                (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
                xs += [x0, x1, None]
                ys += [y0, y1, None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=rel.replace("_", " "),
                                     line={"color": color, "width": 2}, hoverinfo="skip"))
    for e in graph["edges"]:
        (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowsize=1.2, standoff=14,
                           arrowcolor=REL_COLORS.get(e["relationship"], "#6b7280"), text="")
    fig.add_trace(go.Scatter(
        x=[pos[n["version_id"]][0] for n in nodes], y=[pos[n["version_id"]][1] for n in nodes],
        mode="markers+text", name="versions", text=[n["version_id"] for n in nodes],
        textposition="top center",
        marker={"size": [26 if n["version_id"] == graph["root"] else 16 for n in nodes],
                "color": [DEPLOYED if n["deployed_to"] else
                          ARCHIVED if n["status"] == "ARCHIVED" else VERSION for n in nodes],
                "line": {"width": 1, "color": "#111827"}},
        hovertext=[f"{n['version_id']}<br>{n['model_type']} · {n['status']}<br>accuracy "
                   f"{fmt_pct(n['accuracy'], fraction=True, digits=1)}<br>deployed: "
                   f"{', '.join(n['deployed_to']) or '-'}"
                   for n in nodes], hoverinfo="text"))
    # room around the outermost nodes: a version id (~20 characters) is centred on its
    # node and was cut off at the plot's edges
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    fig.update_layout(title="Lineage (parents → children)",
                      height=max(380, 120 + 70 * (max(ys) - min(ys) + 1)), showlegend=True,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"title": "generation", "dtick": 1, "zeroline": False,
                             "range": [min(xs) - X_PAD, max(xs) + X_PAD]},
                      yaxis={"visible": False, "range": [min(ys) - 0.6, max(ys) + 0.9]},
                      legend={"orientation": "h", "y": -0.15})
    return fig
