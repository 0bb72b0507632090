"""Evolution: create a genetic-evolution run, evolve it in the background, read what it found.

Thin page over :mod:`engine.evolution`; its sections live in ``ui/``: the new-run form
(:mod:`ui.evolution_form`), the live panel and run controls (:mod:`ui.evolution_controls`,
buttons enabled from the engine's ``RunInfo.can_*``), the result tabs
(:mod:`ui.evolution_results`) and the inspector (:mod:`ui.evolution_inspector`). The work
runs as a scheduler job (``start_background``); the live panel is an ``st.fragment`` that
polls the run row every second while the run is worked on (or its job is queued) and stops
polling — with one full rerun to redraw the results — once it is not. Every engine error
becomes an ``st.error`` line (kept in the ``ev_notice`` notice across the rerun a button
callback causes).
"""

from __future__ import annotations

import streamlit as st

from engine import evolution as ev
from ui import components, evolution_form, paper_add
from ui import evolution_controls as live
from ui import evolution_inspector as inspector
from ui import evolution_results as results
from ui import evolution_walkforward as walkforward
from ui.evolution_controls import NOTICE, call

ss = st.session_state
POLL_SECONDS = 1.0


# ---------------------------------------------------------------------------------- page

st.title("Evolution")
st.caption("Genetic evolution of the 15-gene `genome` strategy: fitness on in-sample data "
           "only, every individual reported out-of-sample too.")
components.show_notice(NOTICE)

datasets = ss.get("datasets") or []
runs = call(ev.list_runs) or []
with st.expander("New evolution run", expanded=not runs, icon=":material/add:"):
    if datasets:
        evolution_form.new_run_form(datasets)
    else:
        st.info("No datasets yet: import one on **Market Data** first.")
if not runs:
    st.info("No evolution runs yet: set one up above and press **Create run**.",
            icon=":material/biotech:")
    with st.tabs(["Walk-forward"])[0]:  # needs no run: it makes its own (issue 13)
        walkforward.walkforward_tab(datasets)
    st.stop()

by_id = {r.id: r for r in runs}
if ss.get("ev_run") not in by_id:
    ss["ev_run"] = runs[0].id


def _picked_run(key: str) -> None:
    ss["ev_run"] = ss[key]


# The key carries what the labels show (status, generations): when the live panel's rerun
# brings new work the picker is redrawn with fresh labels, never "created · 0" (#6).
run_key = "ev_run_pick_" + "_".join(f"{r.id}{r.status[:2]}{r.generations_done}"
                                    for r in runs)
run_id = st.selectbox(
    "Run", list(by_id), index=list(by_id).index(ss["ev_run"]), key=run_key,
    on_change=_picked_run, args=(run_key,),
    format_func=lambda i: (f"#{i}{' · ' + by_id[i].name if by_id[i].name else ''} · "
                           f"{','.join(by_id[i].config.get('symbols', []))} · "
                           f"{by_id[i].config.get('objective')} · {by_id[i].status} · "
                           f"{by_id[i].generations_done} of "
                           f"{by_id[i].target_generations or by_id[i].config.get('generations')}"
                           " generations"))
ss["ev_run"] = run_id
run = by_id[run_id]
cfg = run.config
what = (cfg.get("fitness") if cfg.get("objective") == "single"
        else "NSGA-II on " + ", ".join(cfg.get("objectives", [])))
split = (f"walk-forward {cfg['walk_forward_folds']} folds" if cfg.get("walk_forward_folds")
         else f"last {cfg.get('oos_fraction', 0) * 100:.0f} % held out")
st.caption(f"population {cfg.get('population_size')} · {cfg.get('islands')} island(s) · "
           f"fitness {what} · crossover "
           f"{cfg.get('crossover_rate')} · mutation {cfg.get('mutation_rate')} · elite "
           f"{cfg.get('elite_size')} · {split} · seed {cfg.get('seed')} · backend "
           f"{cfg.get('backend')} · early stop at {cfg.get('fitness_threshold') or 'off'}")

polling = live.should_poll(run)
st.fragment(run_every=POLL_SECONDS if polling else None)(live.progress_panel)(run.id, polling)

latest = call(ev.population, run.id) or []
inspector.inspect_options(run, latest)  # before the Pareto chart: it rings the inspected point
# once a walk-forward was started in this session its tab opens first (walkforward.FOCUS)
tabs = st.tabs(["Population", "History", "Pareto front", "Parameters", "Walk-forward"],
               default="Walk-forward" if ss.get(walkforward.FOCUS) else None)
with tabs[0]:
    results.population_tab(run)
with tabs[1]:
    results.history_tab(run)
with tabs[2]:
    results.pareto_tab(run, latest)
with tabs[3]:
    results.parameters_tab(run)
with tabs[4]:
    walkforward.walkforward_tab(datasets)
inspector.inspector(run, latest)
inspector.promoted_list()
with st.expander("Add a promoted strategy to a paper book", icon=":material/account_balance:"):
    paper_add.promoted_section(key="ev_paper")
live.reset_box(run, polling)
