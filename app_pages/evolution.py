"""Evolution: create a genetic-evolution run, evolve it in the background, read what it found.

Thin page over :mod:`engine.evolution`. The work runs as a scheduler job
(``start_background``); the progress panel is an ``st.fragment`` that polls the run row
every second while the run is running (or its job is queued) and stops polling — with one
full rerun to redraw the results — once it is not. Every engine error becomes an
``st.error`` line (kept in ``ev_notice`` across the rerun a button callback causes).
"""

from __future__ import annotations

import time
from typing import Any

import polars as pl
import streamlit as st

from engine import evolution as ev
from engine.errors import StratLabError
from ui import components
from ui import evolution_charts as ec
from ui.state import ensure

ss = st.session_state
ACTIVE = ("running", "stopping")
RESUMABLE = ("paused", "interrupted", "stopped", "failed")
POLL_SECONDS = 1.0
#: After a button queued a job, poll at least this long for the job to pick the run up.
PICKUP_SECONDS = 15.0
STATUS_BADGE = {"created": "gray", "running": "blue", "stopping": "orange", "paused": "orange",
                "completed": "green", "stopped": "gray", "interrupted": "red", "failed": "red"}


# ------------------------------------------------------------------------------ callbacks

def _notice(kind: str, text: str) -> None:
    ss["ev_notice"] = (kind, text)


def _guard(fn, *args, ok: str | None = None, **kwargs) -> Any:
    """Call the engine; an error becomes a notice (never a traceback on the page)."""
    try:
        out = fn(*args, **kwargs)
    except StratLabError as exc:
        _notice("error", str(exc))
        return None
    except Exception as exc:  # noqa: BLE001 - anything else is still one line, not a trace
        _notice("error", f"{type(exc).__name__}: {exc}")
        return None
    if ok:
        _notice("success", ok)
    return out


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
    try:
        cfg = ev.EvolutionConfig(**_config_from_widgets())
    except StratLabError as exc:
        _notice("error", str(exc))
        return
    run_id = _guard(ev.create_run, cfg, name=ss["ev_name"].strip())
    if run_id is not None:
        ss["ev_run"] = run_id
        _notice("success", f"Run #{run_id} created (seed {cfg.seed}). Press **Evolve** to "
                "start it.")


def _watch(run_id: int) -> None:
    """Remember that a job was just queued, so the page polls until the job picks it up."""
    info = _guard(ev.get_run, run_id)
    if info is not None:
        ss["ev_watch"] = {"run": run_id, "since": time.time(), "updated": info.updated_at}


def _start(run_id: int, generations: int | None) -> None:
    what = f"{generations} generation(s)" if generations else "the run's target"
    if _guard(ev.start_background, run_id, generations,
              ok=f"Run #{run_id}: evolving {what} in the background.") is not None:
        _watch(run_id)


def _resume(run_id: int) -> None:
    if _guard(ev.request_resume, run_id, ok=f"Run #{run_id} resumed.") is not None:
        _watch(run_id)


def _pause(run_id: int) -> None:
    _guard(ev.request_pause, run_id,
           ok=f"Run #{run_id} pauses after the generation in flight.")


def _stop(run_id: int) -> None:
    _guard(ev.request_stop, run_id, ok=f"Run #{run_id} stops after the generation in flight.")


def _reset(run_id: int) -> None:
    if _guard(ev.reset_run, run_id, new_seed=bool(ss["ev_reset_new_seed"]),
              ok=f"Run #{run_id} reset: its history and population are cleared.") is not None:
        ss.pop("ev_uid", None)
        ss["ev_detail"] = None


def _promote(run_id: int, uid: int) -> None:
    info = _guard(ev.promote, run_id, uid, ss.get("ev_promote_name", ""))
    if info is not None:
        data = ",".join(info.symbols)
        end = str(info.split.get("in_sample_end") or "")[:10]
        _notice("success", f"Promoted individual {uid} as **{info.name}**. Run it again on "
                "**Backtest** (strategy genome → *Promoted strategy*) or with "
                f"`python -m engine backtest --data {data} --strategy {info.name}"
                f"{' --end ' + end if end else ''} --json` (the in-sample metrics match).")


# ---------------------------------------------------------------------------- new run form

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
                       help="Computed on in-sample metrics only (docs/evolution.md).")
    else:
        from engine.backtest import METRIC_NAMES

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
        c[5].selectbox("Backend", ["process", "inline", "ray"], key="ev_backend",
                       help="process: worker processes (default); inline: in this process; "
                            "ray: STRATLAB_RAY_ADDRESS or a local Ray.")
    st.button("Create run", key="ev_create_btn", type="primary", on_click=_create,
              disabled=not ss["ev_symbols"])


# ------------------------------------------------------------------------- live progress

def _job_queued(run_id: int) -> bool:
    try:
        from engine.evolution.jobs import job_id
        from engine.scheduler import get_scheduler

        job = get_scheduler().get_job(job_id(run_id))
        return job is not None and job.next_run_time is not None
    except Exception:  # noqa: BLE001 - no scheduler: nothing is queued
        return False


def should_poll(run: Any) -> bool:
    """Running, its job queued, or a job was just asked for and has not touched the run."""
    if run.status in ACTIVE or _job_queued(run.id):
        return True
    w = ss.get("ev_watch") or {}
    return (w.get("run") == run.id and time.time() - w.get("since", 0) < PICKUP_SECONDS
            and run.updated_at == w.get("updated"))


def progress_panel(run_id: int, polling: bool) -> None:
    """Status, progress bar, generation counter, best/mean fitness and the run controls."""
    run = _guard(ev.get_run, run_id)
    if run is None:
        return
    poll_now = should_poll(run)
    if poll_now != polling:  # started or finished since the page ran: redraw it all
        st.rerun()
    target = run.target_generations or run.config.get("generations") or 0
    badge = STATUS_BADGE.get(run.status, "gray")
    pending = f" · {run.requested_action} requested" if run.requested_action else ""
    st.markdown(f"**Run #{run.id}**{' · ' + run.name if run.name else ''} "
                f":{badge}-badge[{run.status}]{pending}")
    label = f"Generation {run.generations_done} of {target}"
    if run.status == "created" and polling:
        label = "Queued: waiting for the background job to start…"
    st.progress(run.progress if run.generations_done or run.status != "created" else 0.0,
                text=label)
    c = st.columns(5)
    c[0].metric("Generation", f"{run.generations_done} / {target}", border=True)
    c[1].metric("Best fitness", components.fmt(run.best_fitness), border=True)
    c[2].metric("Mean fitness", components.fmt(run.mean_fitness), border=True)
    c[3].metric("Evaluations", components.fmt(run.evaluations, "int"), border=True)
    c[4].metric("Seconds", f"{run.seconds:,.1f}", border=True)
    if run.status == "failed" and run.error:
        st.error(f"The run failed: {run.error.strip().splitlines()[-1]}")
    if run.status == "interrupted":
        st.warning("This run was interrupted (the app or its worker stopped). Resume it: at "
                   "most the generation in flight was lost.")

    busy = run.status in ACTIVE or polling
    c = st.columns([1.2, 2.2, 2.2, 1, 1, 1])
    ensure("ev_n", 5)
    n = c[0].number_input("N", 1, 10_000, step=1, key="ev_n", label_visibility="collapsed")
    c[1].button(f"Evolve {int(n)} generations", key="ev_evolve_btn", type="primary",
                on_click=_start, args=(run.id, int(n)), disabled=busy,
                help="Runs as a background job; this panel follows it.")
    c[2].button("Start background evolution", key="ev_bg_btn", on_click=_start,
                args=(run.id, None), disabled=busy,
                help=f"Evolve up to the run's target ({run.config.get('generations')} "
                     "generations); it continues while you use other pages.")
    pausable = run.status == "running" and run.requested_action != "pause"
    c[3].button("Pause", key="ev_pause_btn", on_click=_pause, args=(run.id,),
                disabled=not pausable)
    resumable = run.status in RESUMABLE or (run.status == "running"
                                            and run.requested_action == "pause")
    c[4].button("Resume", key="ev_resume_btn", on_click=_resume, args=(run.id,),
                disabled=not resumable, type="primary" if run.status == "interrupted"
                else "secondary")
    c[5].button("Stop", key="ev_stop_btn", on_click=_stop, args=(run.id,),
                disabled=run.status in ("stopped", "completed", "failed", "stopping"))
    if polling:
        hist = _guard(ev.history, run.id) or []
        if len(hist) > 1:
            st.plotly_chart(ec.progress_sparkline([h.to_dict() for h in hist]),
                            key="ev_spark", config={"displaylogo": False})


# ------------------------------------------------------------------------------ results

def population_tab(run: Any) -> list[Any]:
    gens = run.generations_done
    gen = gens
    if gens > 0:
        gen = st.select_slider("Generation", list(range(gens + 1)), value=gens,
                               key=f"ev_pop_gen_{run.id}")
    pop = _guard(ev.population, run.id, gen) or []
    if not pop:
        st.caption("No population yet: press **Evolve** to draw generation 0.")
        return []
    st.caption(f"Generation {gen}: {len(pop)} individuals, best fitness first. IS = "
               "in-sample (selection sees only this), OOS = out-of-sample hold-out.")
    st.dataframe(ec.population_frame(pop), hide_index=True, key="ev_population_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("fitness", "IS Sharpe", "OOS Sharpe")})
    return pop


def history_tab(run: Any) -> None:
    hist = _guard(ev.history, run.id) or []
    if not hist:
        st.caption("No generations yet.")
        return
    st.plotly_chart(ec.history_chart([h.to_dict() for h in hist]), key="ev_history_chart",
                    config={"displaylogo": False})
    st.caption("Diversity: mean spread of the genes scaled to [0, 1] (≈ 1 random, 0 "
               "converged); the mutation rate rises when it falls below 0.25.")
    rows = [{k: v for k, v in h.to_dict().items() if k != "islands"} for h in hist]
    st.dataframe(pl.DataFrame(rows), hide_index=True, key="ev_history_table")


def pareto_tab(run: Any, latest: list[Any]) -> None:
    front = _guard(ev.pareto_front, run.id) or []
    if not latest or not front:
        st.caption("No population yet.")
        return
    objectives = list(run.config.get("objectives") or [])
    if run.config.get("objective") != "multi":
        st.caption("Single-objective run: the front below is on the objective metrics "
                   "stored with every individual; selection used the fitness only.")
    c = st.columns(3)
    x = c[0].selectbox("x", objectives, index=0, key="ev_pareto_x")
    y = c[1].selectbox("y", objectives, index=min(1, len(objectives) - 1), key="ev_pareto_y")
    rest = [o for o in objectives if o not in (x, y)]
    color = c[2].selectbox("colour", ["(none)", *objectives],
                           index=1 + objectives.index(rest[0]) if rest else 0,
                           key="ev_pareto_color")
    fig = ec.pareto_chart(latest, [i.uid for i in front], x, y,
                          None if color == "(none)" else color, selected=ss.get("ev_uid"))
    event = st.plotly_chart(fig, key="ev_pareto_chart", on_select="rerun",
                            selection_mode=("points", "box"), config={"displaylogo": False})
    picked = _picked_uid(event)
    if picked is not None and picked != ss.get("ev_pareto_seen"):
        ss["ev_pareto_seen"] = picked
        ss["ev_uid"] = picked  # the inspector below is drawn after this
    st.caption(f"{len(front)} non-dominated of {len(latest)}. Click a point (or box-select "
               "one) to inspect it below.")


def _picked_uid(event: Any) -> int | None:
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
    dist = _guard(ev.parameter_distribution, run.id)
    imp = _guard(ev.parameter_importance, run.id) or {}
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


# ----------------------------------------------------------------------------- inspector

def _detail(run: Any, uid: int) -> Any:
    key = (run.id, uid, run.evaluations, run.generations_done)
    cached = ss.get("ev_detail")
    if cached and cached[0] == key:
        return cached[1]
    with st.spinner(f"Backtesting individual {uid} in-sample and out-of-sample…"):
        detail = _guard(ev.get_individual, run.id, uid)
    ss["ev_detail"] = (key, detail) if detail is not None else None
    return detail


def inspect_options(run: Any, latest: list[Any]) -> list[int]:
    """The uids the inspector offers (best fitness first); defaults ``ev_uid`` to the best.

    Called before the Pareto chart is drawn so that chart's figure (which rings the
    inspected point) is the same on the rerun a click causes — a changed figure would be a
    new element and lose the click's selection.
    """
    ranked = sorted(latest, key=lambda i: -(i.fitness if i.fitness is not None else -1e18))
    options = [i.uid for i in ranked]
    for extra in (run.best_uid, ss.get("ev_uid")):
        if extra is not None and extra not in options:
            options.append(extra)
    if options and ss.get("ev_uid") not in options:
        ss["ev_uid"] = run.best_uid if run.best_uid in options else options[0]
    return options


def inspector(run: Any, latest: list[Any]) -> None:
    st.subheader("Inspect an individual")
    if not latest:
        st.caption("Evolve the run to inspect its individuals.")
        return
    options = inspect_options(run, latest)
    by_uid = {i.uid: i for i in latest}
    c = st.columns([3, 2, 1], vertical_alignment="bottom")
    uid = c[0].selectbox(
        "Individual", options, key="ev_uid",
        format_func=lambda u: (f"#{u} · fitness {by_uid[u].fitness:.4f}"
                               + (" · best" if u == run.best_uid else "")
                               if u in by_uid else f"#{u}"))
    detail = _detail(run, uid)
    if detail is None:
        return
    rep = detail.overfitting
    color = ec.VERDICT_COLORS.get(rep.verdict, "gray")
    st.markdown(f"**Individual #{detail.uid}** · generation {detail.generation} · island "
                f"{detail.island} · born {detail.born} · age {detail.age} · parents "
                f"{', '.join(map(str, detail.parents)) or 'none (initial population)'} · "
                f"fitness **{detail.fitness:.4f}** · :{color}-badge[{rep.verdict}]")
    c = st.columns(5)
    c[0].metric("Deflated Sharpe", components.fmt(rep.deflated_sharpe), border=True,
                help="Probability that the true Sharpe beats the best of "
                     f"{rep.n_trials} lucky trials (every evaluation of the run).")
    c[1].metric("Sharpe in-sample", components.fmt(rep.sharpe_in_sample), border=True)
    c[2].metric("Sharpe out-of-sample", components.fmt(rep.sharpe_out_of_sample), border=True)
    c[3].metric("IS − OOS Sharpe gap", components.fmt(rep.sharpe_gap), border=True,
                help="Above 1.0 counts as possibly overfit.")
    c[4].metric("Trials", components.fmt(rep.n_trials, "int"), border=True)
    st.caption(f"Verdict: {rep.verdict} — {rep.reason}. Split: in-sample to "
               f"{str(detail.split.get('in_sample_end') or '')[:10]}, out-of-sample from "
               f"{str(detail.split.get('out_of_sample_start') or '—')[:10]}.")
    oos = detail.out_of_sample_result
    st.plotly_chart(ec.split_equity_chart(detail.in_sample_result.equity,
                                          oos.equity if oos is not None else None),
                    key="ev_inspect_equity", config={"displaylogo": False})
    left, right = st.columns([1, 2])
    left.markdown("**Parameters**")
    left.dataframe(ec.params_frame(detail.params), hide_index=True, key="ev_inspect_params")
    right.markdown("**Metrics**")
    right.dataframe(ec.metrics_frame(detail.in_sample, detail.out_of_sample), hide_index=True,
                    key="ev_inspect_metrics",
                    column_config={c: st.column_config.NumberColumn(format="%.4g")
                                   for c in ("in-sample", "out-of-sample")})
    trades = ec.trades_frame(detail.in_sample_result.trades,
                             oos.trades if oos is not None else None)
    st.markdown(f"**Trades** ({trades.height})")
    if trades.height:
        st.dataframe(trades, hide_index=True, key="ev_inspect_trades")
    else:
        st.caption("No trades in either window.")

    st.markdown("**Promote** — save these genes as a named strategy")
    if ss.get("ev_promote_for") != (run.id, uid) or not ss.get("ev_promote_name"):
        ss["ev_promote_name"], ss["ev_promote_for"] = f"evo{run.id}-{uid}", (run.id, uid)
    c = st.columns([3, 1], vertical_alignment="bottom")
    c[0].text_input("Strategy name", key="ev_promote_name", max_chars=64,
                    help="Letters, digits, '_', '.', '-'; runnable with "
                         "`backtest --strategy NAME`.")
    c[1].button("Promote", key="ev_promote_btn", on_click=_promote, args=(run.id, uid),
                type="primary")


def promoted_list() -> None:
    promoted = _guard(ev.list_promoted) or []
    with st.expander(f"Promoted strategies ({len(promoted)})"):
        if not promoted:
            st.caption("None yet: promote an individual above.")
            return
        st.dataframe(pl.DataFrame({
            "Name": [p.name for p in promoted],
            "Data": [",".join(p.symbols) for p in promoted],
            "Run": [p.source_run_id for p in promoted],
            "Individual": [p.source_uid for p in promoted],
            "Fitness": [p.fitness for p in promoted],
            "IS return %": [p.in_sample.get("total_return_pct") for p in promoted],
            "OOS return %": [(p.out_of_sample or {}).get("total_return_pct") for p in promoted],
            "Promoted (UTC)": [f"{p.created_at:%Y-%m-%d %H:%M}" for p in promoted],
        }, schema_overrides={"Fitness": pl.Float64, "IS return %": pl.Float64,
                             "OOS return %": pl.Float64}),
            hide_index=True, key="ev_promoted_table")


def reset_box(run: Any, busy: bool) -> None:
    with st.expander("Reset the population"):
        st.caption("Clears the run's history and population (same settings); the next "
                   "**Evolve** draws a new random generation 0. Promoted strategies stay.")
        ensure("ev_reset_new_seed", True)
        st.checkbox("Use a new random seed", key="ev_reset_new_seed")
        st.button("Reset population", key="ev_reset_btn", on_click=_reset, args=(run.id,),
                  disabled=busy)


# ---------------------------------------------------------------------------------- page

st.title("Evolution")
st.caption("Genetic evolution of the 15-gene `genome` strategy: fitness on in-sample data "
           "only, every individual reported out-of-sample too.")
notice = ss.pop("ev_notice", None)
if notice:
    getattr(st, notice[0])(notice[1])

datasets = ss.get("datasets") or []
runs = _guard(ev.list_runs) or []
with st.expander("New evolution run", expanded=not runs, icon=":material/add:"):
    if datasets:
        new_run_form(datasets)
    else:
        st.info("No datasets yet: import one on **Market Data** first.")
if not runs:
    st.info("No evolution runs yet: set one up above and press **Create run**.",
            icon=":material/biotech:")
    st.stop()

by_id = {r.id: r for r in runs}
if ss.get("ev_run") not in by_id:
    ss["ev_run"] = runs[0].id
run_id = st.selectbox(
    "Run", list(by_id), key="ev_run",
    format_func=lambda i: (f"#{i}{' · ' + by_id[i].name if by_id[i].name else ''} · "
                           f"{','.join(by_id[i].config.get('symbols', []))} · "
                           f"{by_id[i].config.get('objective')} · {by_id[i].status} · "
                           f"{by_id[i].generations_done} generations"))
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

polling = should_poll(run)
st.fragment(run_every=POLL_SECONDS if polling else None)(progress_panel)(run.id, polling)

latest = _guard(ev.population, run.id) or []
inspect_options(run, latest)
tabs = st.tabs(["Population", "History", "Pareto front", "Parameters"])
with tabs[0]:
    population_tab(run)
with tabs[1]:
    history_tab(run)
with tabs[2]:
    pareto_tab(run, latest)
with tabs[3]:
    parameters_tab(run)
inspector(run, latest)
promoted_list()
reset_box(run, run.status in ACTIVE or polling)
