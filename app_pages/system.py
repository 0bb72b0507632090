"""System: the background scheduler and its jobs, the database, the GPU, the LLM breakers.

Thin page over :mod:`engine.scheduler` (jobs, their last runs and errors, pause / resume /
run now / remove), :func:`engine.system_metrics.system_metrics` (the seed's metrics),
:func:`engine.db.database_size_bytes`,
:func:`engine.llm.breaker_states` and the running evolution runs. It polls (every
2 s) only while an evolution run or a job is running, and stops when none is.
"""

from __future__ import annotations

import streamlit as st

from engine import scheduler
from ui import components
from ui import system as sysui
from ui.state import ensure

ss = st.session_state
POLL_SECONDS = 2.0
NOTICE = "sys_notice"


def _act(fn, job_id: str, done: str) -> None:
    components.call_engine(NOTICE, fn, job_id, ok=f"Job `{job_id}` {done}.")


def _running_evolutions() -> list:
    try:
        from engine.evolution import list_runs

        return [r for r in list_runs() if r.status in ("running", "stopping")]
    except Exception as exc:  # noqa: BLE001
        st.error(f"Evolution runs unavailable: {exc}")
        return []


def jobs_section() -> None:
    try:
        state = scheduler.scheduler_state()
        jobs = sysui.stable_jobs(scheduler.list_jobs())
        runs = scheduler.last_runs(limit=30)
    except Exception as exc:  # noqa: BLE001
        st.error(f"Scheduler unavailable: {type(exc).__name__}: {exc}")
        return
    c = st.columns(4)
    c[0].metric("Scheduler", "running" if state["running"] else "stopped", border=True)
    c[1].metric("Jobs", f"{state['jobs']:,}", border=True)
    c[2].metric("Failed runs", f"{state['failed_runs']:,}", border=True,
                help="Job executions that raised (all time); tracebacks below.")
    c[3].metric("Running now", f"{sum(1 for r in runs if r.status == 'running'):,}",
                border=True)

    st.subheader("Jobs")
    if not jobs:
        st.caption("No scheduled jobs. Evolution runs started in the background and the "
                   "periodic engine jobs appear here.")
    for job in jobs:
        with st.container(border=True):
            left, right = st.columns([5, 4], vertical_alignment="center")
            status = job.last_status or "never run"
            color = {"success": "green", "error": "red", "running": "blue",
                     "missed": "orange"}.get(job.last_status or "", "gray")
            paused = ":orange-badge[paused]" if job.paused else ""
            left.markdown(f"**{job.name}** · `{job.id}` :{color}-badge[{status}] {paused}")
            left.caption(f"`{job.func}` · {sysui.trigger_words(job.trigger)} · next run "
                         f"{sysui.when(job.next_run_time) if job.next_run_time else '—'} · "
                         f"last started {sysui.when(job.last_started)} · finished "
                         f"{sysui.when(job.last_finished)}")
            b = right.columns(3)
            if job.paused:
                b[0].button("Resume", key=f"sys_resume_{job.id}", on_click=_act,
                            args=(scheduler.resume_job, job.id, "resumed"))
            else:
                b[0].button("Pause", key=f"sys_pause_{job.id}", on_click=_act,
                            args=(scheduler.pause_job, job.id, "paused"))
            b[1].button("Run now", key=f"sys_run_{job.id}", on_click=_act,
                        args=(scheduler.run_now, job.id, "runs now"))
            b[2].button("Remove", key=f"sys_remove_{job.id}", on_click=_act,
                        args=(scheduler.remove_job, job.id, "removed"))
            if job.last_error:
                left.error(f"Last run failed: {sysui.last_line(job.last_error)}")
                with st.expander("Traceback of the last failed run"):
                    st.code(job.last_error, language="text")
            elif job.last_result is not None:
                with st.expander("Result of the last run"):
                    st.json(job.last_result, expanded=False)

    scheduled = {j.id for j in jobs}
    oneoff: dict[str, object] = {}
    for r in runs:  # newest first: the last run of each job no longer in the store
        if r.job_id not in scheduled:
            oneoff.setdefault(r.job_id, r)
    if oneoff:
        st.subheader("Recent one-off jobs")
        st.caption("Run-once jobs (a background evolution, a retrain) leave the schedule "
                   "when they start; their last run is kept here.")
        for jid, r in oneoff.items():
            color = {"success": "green", "error": "red", "running": "blue"}.get(r.status, "gray")
            st.markdown(f"`{jid}` :{color}-badge[{r.status}] · started "
                        f"{sysui.when(r.started_at)} · finished {sysui.when(r.finished_at)}"
                        + (f" · {sysui.short_result(r.result, 100)}" if r.result else ""))
            if r.error:
                with st.expander(f"Traceback of `{jid}`"):
                    st.code(r.error, language="text")

    st.subheader("Recent job runs")
    if runs:
        st.dataframe(sysui.runs_frame(runs), hide_index=True, key="sys_runs_table")
        failed = [r for r in runs if r.status == "error" and r.error]
        if failed:
            with st.expander(f"Tracebacks of recent failures ({len(failed)})"):
                for r in failed[:10]:
                    st.markdown(f"**{r.job_id}** · started {sysui.when(r.started_at)}")
                    st.code(r.error, language="text")
    else:
        st.caption("No job has run yet.")


def seed_metrics_section() -> None:
    """The seed's system metrics over the last 24 hours (engine.system_metrics)."""
    from engine.system_metrics import system_metrics

    st.subheader("System metrics (last 24 h)")
    try:
        m = system_metrics(24.0).to_dict()
    except Exception as exc:  # noqa: BLE001
        st.error(f"System metrics unavailable: {type(exc).__name__}: {exc}")
        return
    cols = st.columns(5)
    for c, (label, value, hlp) in zip(cols, sysui.seed_metric_cards(m), strict=True):
        c.metric(label, value, help=hlp, border=True)
    if m["jobs"]:
        with st.expander(f"Job latency per job ({len(m['jobs'])})"):
            st.dataframe(sysui.latency_frame(m["jobs"]), hide_index=True,
                         key="sys_latency_table")


def live_section(polling: bool) -> None:
    """Running evolution runs (polled while any is running)."""
    running = _running_evolutions()
    if bool(running) != polling:
        st.rerun()
    st.subheader("Evolution runs running now")
    for r in running:
        st.progress(r.progress, text=f"Run #{r.id}{' · ' + r.name if r.name else ''} · "
                    f"{','.join(r.config.get('symbols', []))} · {r.status} · generation "
                    f"{r.generations_done} / {r.target_generations or '?'} · best fitness "
                    f"{r.best_fitness if r.best_fitness is None else f'{r.best_fitness:.4f}'}")
    if running:
        st.dataframe(sysui.evolution_frame(running), hide_index=True, key="sys_evo_table")
    else:
        st.caption("None. Start one on the **Evolution** page.")


def resources_section() -> None:
    from engine.config import get_settings
    from engine.db import database_size_bytes

    left, mid = st.columns(2)
    with left.container(border=True):
        st.markdown("**Database**")
        st.code(sysui.redacted_url(get_settings().database_url), language="text",
                wrap_lines=True)
        try:
            size = database_size_bytes()
        except Exception as exc:  # noqa: BLE001
            size = None
            st.caption(f"size unavailable: {exc}")
        st.metric("Size", sysui.human_bytes(size))
    with mid.container(border=True):
        st.markdown("**GPU**")
        gpu = sysui.gpu_info()
        if gpu["available"]:
            for d in gpu["devices"]:
                st.success(f"{d['name']} · {d['memory_gb']:,.1f} GB", icon=":material/memory:")
        else:
            st.info("CPU only: no CUDA GPU is available.", icon=":material/memory:")
        st.caption(f"torch {gpu['torch'] or 'not installed'}"
                   + (f" · {gpu['note']}" if gpu["note"] else ""))

    st.subheader("LLM circuit breakers")
    try:
        from engine.llm import breaker_states

        states = breaker_states()
    except Exception as exc:  # noqa: BLE001
        st.error(f"Breaker states unavailable: {type(exc).__name__}: {exc}")
        return
    if states:
        st.dataframe(sysui.breakers_frame(states), hide_index=True, key="sys_breakers")
        st.caption("closed = calls go through; open = calls to that model are refused until "
                   "the retry time; half-open = one trial call.")
    else:
        st.caption("No model has been called in this process yet (every breaker closed).")


# ---------------------------------------------------------------------------------- page

st.title("System")
components.show_notice(NOTICE)
ensure("sys_auto", False)
c = st.columns([1, 2, 5], vertical_alignment="center")
c[0].button("Refresh", key="sys_refresh_btn", icon=":material/refresh:")
c[1].toggle("Auto-refresh", key="sys_auto", help="Redraw the jobs every 5 seconds.")
if ss["sys_auto"]:
    st.fragment(run_every=5.0)(jobs_section)()
else:
    jobs_section()
seed_metrics_section()
polling = bool(_running_evolutions())
st.fragment(run_every=POLL_SECONDS if polling else None)(live_section)(polling)
resources_section()
