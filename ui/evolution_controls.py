"""The Evolution page's live panel: a run's status and progress, and its run controls.

Which buttons are enabled is the engine's answer (``RunInfo.can_evolve`` / ``can_resume`` /
``can_pause`` / ``can_stop``, from the one transition table in
:mod:`engine.evolution.controls`); this module adds only what the page alone knows — that
it has just queued a job which has not touched the run yet — so it polls until it does.
Every engine error becomes a notice under :data:`NOTICE` (shown after the callback's rerun).
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from engine import evolution as ev
from engine import scheduler
from ui import components
from ui import evolution_charts as ec
from ui.state import ensure

ss = st.session_state
#: Session key of the Evolution page's notice (components.show_notice draws it).
NOTICE = "ev_notice"
#: After a button queued a job, poll at least this long for the job to pick the run up.
PICKUP_SECONDS = 15.0
STATUS_BADGE = {"created": "gray", "running": "blue", "stopping": "orange", "paused": "orange",
                "completed": "green", "stopped": "gray", "interrupted": "red", "failed": "red"}


def call(fn, *args: Any, ok: str | None = None, **kwargs: Any) -> Any:
    """Call the engine; an error becomes the page's notice (see components.call_engine)."""
    return components.call_engine(NOTICE, fn, *args, ok=ok, **kwargs)


# ------------------------------------------------------------------------------ callbacks

def _watch(run_id: int) -> None:
    """Remember that a job was just queued, so the page polls until the job picks it up."""
    info = call(ev.get_run, run_id)
    if info is not None:
        ss["ev_watch"] = {"run": run_id, "since": time.time(), "updated": info.updated_at}


def _start(run_id: int, generations: int | None) -> None:
    what = f"{generations} generation(s)" if generations else "the run's target"
    if call(ev.start_background, run_id, generations,
            ok=f"Run #{run_id}: evolving {what} in the background.") is not None:
        _watch(run_id)


def _resume(run_id: int) -> None:
    if call(ev.request_resume, run_id, ok=f"Run #{run_id} resumed.") is not None:
        _watch(run_id)


def _pause(run_id: int) -> None:
    call(ev.request_pause, run_id, ok=f"Run #{run_id} pauses after the generation in flight.")


def _stop(run_id: int) -> None:
    call(ev.request_stop, run_id, ok=f"Run #{run_id} stops after the generation in flight.")


def _reset(run_id: int) -> None:
    if call(ev.reset_run, run_id, new_seed=bool(ss["ev_reset_new_seed"]),
            ok=f"Run #{run_id} reset: its history and population are cleared.") is not None:
        ss.pop("ev_uid", None)
        ss["ev_detail"] = None


# ------------------------------------------------------------------------------ polling

def _job_queued(run: Any) -> bool:
    try:
        job = scheduler.get_scheduler().get_job(run.job_id)
        return job is not None and job.next_run_time is not None
    except Exception:  # noqa: BLE001 - no scheduler: nothing is queued
        return False


def should_poll(run: Any) -> bool:
    """A process works on the run, its job is queued, or a job was just asked for and has
    not touched the run yet."""
    if not run.can_evolve or _job_queued(run):  # the engine refuses to evolve a working run
        return True
    w = ss.get("ev_watch") or {}
    return (w.get("run") == run.id and time.time() - w.get("since", 0) < PICKUP_SECONDS
            and run.updated_at == w.get("updated"))


# ---------------------------------------------------------------------------- the panel

def progress_panel(run_id: int, polling: bool) -> None:
    """Status, progress bar, generation counter, best/mean fitness and the run controls."""
    run = call(ev.get_run, run_id)
    if run is None:
        return
    if should_poll(run) != polling:  # started or finished since the page ran: redraw it all
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
    controls(run, polling)
    if polling:
        hist = call(ev.history, run.id) or []
        if len(hist) > 1:
            st.plotly_chart(ec.progress_sparkline([h.to_dict() for h in hist]),
                            key="ev_spark", config={"displaylogo": False})


def controls(run: Any, polling: bool) -> None:
    """Evolve N / background / pause / resume / stop, enabled as the engine would accept
    them (no second start while the page's own job request is still on its way)."""
    c = st.columns([1.2, 2.2, 2.2, 1, 1, 1])
    ensure("ev_n", 5)
    n = c[0].number_input("N", 1, 10_000, step=1, key="ev_n", label_visibility="collapsed")
    start_off = not run.can_evolve or polling
    c[1].button(f"Evolve {int(n)} generations", key="ev_evolve_btn", type="primary",
                on_click=_start, args=(run.id, int(n)), disabled=start_off,
                help="Runs as a background job; this panel follows it.")
    c[2].button("Start background evolution", key="ev_bg_btn", on_click=_start,
                args=(run.id, None), disabled=start_off,
                help=f"Evolve up to the run's target "
                     f"({run.target_generations or run.config.get('generations')} "
                     "generations); it continues while you use other pages. **Evolve N** "
                     "adds N to what is done (raising the target when it passes it).")
    c[3].button("Pause", key="ev_pause_btn", on_click=_pause, args=(run.id,),
                disabled=not run.can_pause)
    c[4].button("Resume", key="ev_resume_btn", on_click=_resume, args=(run.id,),
                disabled=not run.can_resume,
                type="primary" if run.status == "interrupted" else "secondary")
    c[5].button("Stop", key="ev_stop_btn", on_click=_stop, args=(run.id,),
                disabled=not run.can_stop)


def reset_box(run: Any, polling: bool) -> None:
    with st.expander("Reset the population"):
        st.caption("Clears the run's history and population (same settings); the next "
                   "**Evolve** draws a new random generation 0. Promoted strategies stay.")
        ensure("ev_reset_new_seed", True)
        st.checkbox("Use a new random seed", key="ev_reset_new_seed")
        st.button("Reset population", key="ev_reset_btn", on_click=_reset, args=(run.id,),
                  disabled=not run.can_evolve or polling)  # only a run nobody works on
