"""The Evolution page's result tabs: population, history, Pareto front, parameters.

Each draws what :mod:`engine.evolution` returns with the builders of
:mod:`ui.evolution_charts`; a click on the Pareto chart selects the individual the
inspector (:mod:`ui.evolution_inspector`) shows.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from engine import evolution as ev
from ui import evolution_charts as ec
from ui import research_panel
from ui.evolution_controls import call

ss = st.session_state


def population_tab(run: Any) -> list[Any]:
    gens = run.generations_done
    gen = gens
    if gens > 0:
        # The key carries the number of generations: when more arrive the slider is a new
        # widget on the latest one, never left on the generation that was latest (#6).
        gen = st.select_slider("Generation", list(range(gens + 1)), value=gens,
                               key=f"ev_pop_gen_{run.id}_{gens}")
    pop = call(ev.population, run.id, None if gen == gens else gen) or []
    if not pop:
        st.caption("No population yet: press **Evolve** to draw generation 0.")
        return []
    research_panel.run_summary(run)  # PBO, SPA, MinBTL beside the best's deflated Sharpe
    pairs = ec.distinct(pop)
    clones = len(pop) - len(pairs)
    st.caption(f"Generation {gen}: {len(pop)} individuals"
               + (f" ({len(pairs)} distinct; `copies` counts the clones)" if clones else "")
               + ", best fitness first. IS = in-sample (selection sees only this), OOS = "
               "out-of-sample hold-out.")
    frame = ec.population_frame(pop)
    st.dataframe(frame, hide_index=True, key="ev_population_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("fitness", "IS Sharpe", "OOS Sharpe")})
    st.download_button("Download this generation (CSV)", frame.write_csv(),
                       file_name=f"evolution_run{run.id}_gen{gen}.csv", mime="text/csv",
                       key="ev_population_csv")
    return pop


def history_tab(run: Any) -> None:
    hist = call(ev.history, run.id) or []
    if not hist:
        st.caption("No generations yet.")
        return
    st.plotly_chart(ec.history_chart([h.to_dict() for h in hist]), key="ev_history_chart",
                    config={"displaylogo": False})
    st.caption("Diversity: mean spread of the genes scaled to [0, 1] (≈ 1 random, 0 "
               "converged); the mutation rate rises when it falls below 0.25.")
    rows = [{k: v for k, v in h.to_dict().items() if k != "islands"} for h in hist]
    frame = pl.DataFrame(rows)
    st.dataframe(frame, hide_index=True, key="ev_history_table")
    st.download_button("Download the history (CSV)", frame.write_csv(),
                       file_name=f"evolution_run{run.id}_history.csv", mime="text/csv",
                       key="ev_history_csv")


def pareto_tab(run: Any, latest: list[Any]) -> None:
    if not latest:
        st.caption("No population yet.")
        return
    objectives = list(run.config.get("objectives") or [])
    c = st.columns(3)
    x = c[0].selectbox("x", objectives, index=0, key="ev_pareto_x")
    y = c[1].selectbox("y", objectives, index=min(1, len(objectives) - 1), key="ev_pareto_y")
    rest = [o for o in objectives if o not in (x, y)]
    color = c[2].selectbox("colour", ["(none)", *objectives],
                           index=1 + objectives.index(rest[0]) if rest else 0,
                           key="ev_pareto_color")
    inds = [i for i, _ in ec.distinct(latest)]
    front = drawn_front(inds, x, y)
    fig = ec.pareto_chart(inds, front, x, y,
                          None if color == "(none)" else color, selected=ss.get("ev_uid"))
    event = st.plotly_chart(fig, key="ev_pareto_chart", on_select="rerun",
                            selection_mode=("points", "box"), config={"displaylogo": False})
    picked = picked_uid(event)
    if picked is not None and picked != ss.get("ev_pareto_seen"):
        ss["ev_pareto_seen"] = picked
        ss["ev_uid"] = picked  # the inspector below is drawn after this
        ss["ev_uid_auto"] = False
    single = run.config.get("objective") != "multi"
    what = ("Single-objective run: selection used the fitness only; this front is of the "
            "objective metrics stored with every individual. " if single else "")
    st.caption(f"{what}Front on the two axes drawn ({x} and {y}, both maximised): "
               f"{len(front)} non-dominated of {len(inds)} distinct individuals; the colour "
               "is not part of it. Click a point (or box-select one) to inspect it below.")


def drawn_front(individuals: list[Any], x: str, y: str) -> list[int]:
    """The uids not dominated on the two objectives drawn (both maximised: no other point
    is at least as good on both and better on one — the engine's Pareto rule, on the two
    axes the chart shows rather than all the run's objectives)."""

    def val(i: Any, name: str) -> float:
        v = i.objectives.get(name, i.in_sample.get(name))
        return float(v) if v is not None else -1e18

    pts = [(val(i, x), val(i, y)) for i in individuals]

    def dominated(a: tuple[float, float]) -> bool:
        return any(b[0] >= a[0] and b[1] >= a[1] and b != a for b in pts)

    return [ind.uid for ind, p in zip(individuals, pts, strict=True) if not dominated(p)]


def picked_uid(event: Any) -> int | None:
    try:
        points = event.selection.points if event else []
    except AttributeError:
        points = (event or {}).get("selection", {}).get("points", [])
    for p in points or []:
        cd = p.get("customdata")
        if isinstance(cd, list):
            cd = cd[0] if cd else None
        if cd is not None:
            return int(cd)
    return None


def parameters_tab(run: Any) -> None:
    dist = call(ev.parameter_distribution, run.id)
    imp = call(ev.parameter_importance, run.id) or {}
    if dist is None or dist.height == 0:
        st.caption("No population yet.")
        return
    genes = [c for c in dist.columns if c not in ("generation", "island", "uid", "fitness")]
    st.markdown("**Each parameter over the generations** — median, 10–90 % band, min–max")
    st.plotly_chart(ec.distribution_chart(dist, genes), key="ev_distribution_chart",
                    config={"displaylogo": False})
    st.plotly_chart(ec.importance_chart(imp), key="ev_importance_chart",
                    config={"displaylogo": False})
    st.caption("Importance: |Spearman rank correlation| between the gene and fitness over "
               "every evaluated genome — monotone association, not causation.")
    trials_tab(dist, genes, imp)


def trials_tab(dist: Any, genes: list[str], imp: dict[str, float]) -> None:
    """Every evaluated genome as optuna-dashboard shows trials: filtered by fitness, as
    parallel coordinates, a slice per gene and a contour over any two genes."""
    from ui import sweep_charts as sc

    frame = dist.filter(pl.col("fitness").is_not_null()).unique("uid", keep="first")
    if frame.height == 0:
        return
    st.markdown("**Trials** — every evaluated genome")
    ranked = sorted(genes, key=lambda g: -(imp.get(g) or 0.0))
    c = st.columns([2, 2, 2, 2])
    lo = float(frame.get_column("fitness").min())
    at_least = c[0].number_input("Fitness at least", value=lo, key="ev_trials_min")
    kept = sc.filter_frame(frame, "fitness", at_least)
    x = c[1].selectbox("Contour x", genes, index=genes.index(ranked[0]), key="ev_contour_x")
    y = c[2].selectbox("Contour y", genes, index=genes.index(ranked[min(1, len(ranked) - 1)]),
                       key="ev_contour_y")
    c[3].download_button("Download trials (CSV)", frame.write_csv(), file_name="trials.csv",
                         mime="text/csv", key="ev_trials_csv")
    st.caption(f"{kept.height:,} of {frame.height:,} genomes kept.")
    if kept.height:
        shown = ranked[:6]
        st.plotly_chart(sc.parallel_coordinates(kept, shown, "fitness"), key="ev_parcoords",
                        config={"displaylogo": False})
        st.plotly_chart(sc.slice_plot(kept, shown, "fitness"), key="ev_slice",
                        config={"displaylogo": False})
        if x != y:
            st.plotly_chart(sc.contour(kept, x, y, "fitness"), key="ev_contour",
                            config={"displaylogo": False})
