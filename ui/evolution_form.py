"""The Evolution page's new-run form: every setting of an ``EvolutionConfig``, seeded with
its defaults (environment variables included), and **Create run**."""

from __future__ import annotations

from typing import Any

import streamlit as st

from engine import evolution as ev
from engine.backtest import METRIC_NAMES
from ui import components
from ui.evolution_controls import NOTICE, call
from ui.state import ensure

ss = st.session_state


def _config_from_widgets() -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "symbols": list(ss["ev_symbols"]),
        "objective": "multi" if ss["ev_objective"].startswith("Multi") else "single",
        "population_size": int(ss["ev_population"]),
        "generations": int(ss["ev_generations"]),
        "crossover_rate": float(ss["ev_crossover"]),
        "mutation_rate": float(ss["ev_mutation"]),
        "elite_size": int(ss["ev_elite"]),
        "islands": int(ss["ev_islands"]),
        "migration_interval": int(ss["ev_migration_interval"]),
        "migration_size": int(ss["ev_migration_size"]),
        "backend": ss["ev_backend"],
        "cash": float(ss["ev_cash"]),
        "commission": round(float(ss["ev_commission_pct"]) / 100.0, 10),
        "allow_short": bool(ss["ev_short"]),
        "fitness_threshold": float(ss["ev_threshold"]) if ss["ev_early_stop"] else None,
    }
    if ss["ev_split"] == "Walk-forward folds":
        cfg["walk_forward_folds"] = int(ss["ev_folds"])
    else:
        cfg["oos_fraction"] = round(float(ss["ev_holdout_pct"]) / 100.0, 6)
    if cfg["objective"] == "multi":
        cfg["objectives"] = list(ss["ev_objectives"])
    else:
        cfg["fitness"] = ss["ev_fitness"]
    if not ss["ev_random_seed"]:
        cfg["seed"] = int(ss["ev_seed"])
    return cfg


def _create() -> None:
    cfg = call(ev.EvolutionConfig, **_config_from_widgets())  # bad settings: one error line
    if cfg is None:
        return
    run_id = call(ev.create_run, cfg, name=ss["ev_name"].strip())
    if run_id is not None:
        ss["ev_run"] = run_id
        components.set_notice(NOTICE, "success", f"Run #{run_id} created (seed {cfg.seed}). "
                              "Press **Evolve** to start it.")


def new_run_form(datasets: list[Any]) -> None:
    d = ev.EvolutionConfig(symbols=["-"])  # the seed's defaults (environment variables too)
    symbols = [i.symbol for i in datasets]
    active = ss.get("dataset")
    ensure("ev_symbols", [active] if active in symbols else symbols[:1])
    for key, value in (("ev_name", ""), ("ev_split", "Hold-out"), ("ev_holdout_pct", 30),
                       ("ev_folds", 3), ("ev_objective", "Single fitness"),
                       ("ev_fitness", d.fitness), ("ev_objectives", list(d.objectives)),
                       ("ev_population", d.population_size), ("ev_generations", d.generations),
                       ("ev_crossover", d.crossover_rate), ("ev_mutation", d.mutation_rate),
                       ("ev_elite", d.elite_size), ("ev_islands", d.islands),
                       ("ev_random_seed", True), ("ev_seed", 42),
                       ("ev_early_stop", d.fitness_threshold is not None),
                       ("ev_threshold", d.fitness_threshold if d.fitness_threshold else 0.8),
                       ("ev_migration_interval", d.migration_interval),
                       ("ev_migration_size", d.migration_size), ("ev_backend", d.backend),
                       ("ev_cash", d.cash), ("ev_commission_pct", d.commission * 100),
                       ("ev_short", d.allow_short)):
        ensure(key, value)

    c = st.columns([3, 2])
    c[0].multiselect("Dataset(s)", symbols, key="ev_symbols",
                     help="Several datasets make a portfolio: one cash account, as "
                          "`backtest --data A,B`.")
    c[1].text_input("Name (optional)", key="ev_name", max_chars=80)

    c = st.columns(4)
    split = c[0].radio("Out-of-sample split", ["Hold-out", "Walk-forward folds"],
                       key="ev_split", help="The out-of-sample part is never used for "
                                            "selection; it is reported beside each individual.")
    if split == "Hold-out":
        c[1].slider("Held-out last %", 0, 90, step=5, key="ev_holdout_pct",
                    help="The last part of the bars, out-of-sample (0 = no hold-out).")
    else:
        c[1].number_input("Folds", 2, 20, step=1, key="ev_folds",
                          help="K+1 equal blocks: the last is held out; fitness is the mean "
                               "over the K in-sample folds.")
    objective = c[2].radio("Objective", ["Single fitness", "Multi-objective (NSGA-II)"],
                           key="ev_objective")
    if objective.startswith("Single"):
        c[3].selectbox("Fitness function", ev.fitness_names(), key="ev_fitness",
                       help="Computed on in-sample metrics only (docs/evolution.md#fitness).")
    else:
        c[3].multiselect("Objectives (maximised)", [m for m in METRIC_NAMES
                                                    if m != "periods_per_year"],
                         key="ev_objectives")

    c = st.columns(6)
    c[0].number_input("Population", 4, 5000, step=2, key="ev_population",
                      help="Total over all islands (POPULATION_SIZE).")
    c[1].number_input("Generations", 0, 10_000, step=1, key="ev_generations",
                      help="Target after the initial population (MAX_GENERATIONS).")
    c[2].number_input("Crossover rate", 0.0, 1.0, step=0.05, key="ev_crossover",
                      help="CROSSOVER_RATE")
    c[3].number_input("Mutation rate", 0.0, 1.0, step=0.01, key="ev_mutation",
                      help="Base per-gene rate; rises when diversity falls (MUTATION_RATE).")
    c[4].number_input("Elite size", 0, 1000, step=1, key="ev_elite",
                      help="Best of each island kept unchanged (ELITE_SIZE).")
    c[5].number_input("Islands", 1, 64, step=1, key="ev_islands",
                      help="Ring migration between islands.")

    c = st.columns(6)
    c[0].checkbox("Random seed", key="ev_random_seed")
    c[1].number_input("Seed", 0, 2**31 - 1, step=1, key="ev_seed",
                      disabled=bool(ss["ev_random_seed"]),
                      help="Same seed, data and settings → same populations.")
    c[2].checkbox("Stop early", key="ev_early_stop",
                  help="Stop once the best fitness reaches the threshold (FITNESS_THRESHOLD).")
    c[3].number_input("Fitness threshold", -1e6, 1e6, step=0.05, key="ev_threshold",
                      disabled=not ss["ev_early_stop"])
    with st.expander("Advanced: islands, costs, backend"):
        c = st.columns(6)
        c[0].number_input("Migration every", 1, 1000, step=1, key="ev_migration_interval",
                          help="Generations between ring migrations.")
        c[1].number_input("Migrants", 0, 1000, step=1, key="ev_migration_size")
        c[2].number_input("Cash", 100.0, 1e12, step=1000.0, format="%.0f", key="ev_cash")
        c[3].number_input("Commission %", 0.0, 5.0, step=0.01, format="%.3f",
                          key="ev_commission_pct")
        c[4].checkbox("Allow short", key="ev_short")
        c[5].selectbox("Backend", ["auto", "process", "inline", "ray"], key="ev_backend",
                       help="auto (default): worker processes when a generation is big "
                            "enough to pay for them, else this process; process: worker "
                            "processes (kept for the next run); inline: in this process; "
                            "ray: STRATLAB_RAY_ADDRESS or a local Ray.")
    st.button("Create run", key="ev_create_btn", type="primary", on_click=_create,
              disabled=not ss["ev_symbols"])
