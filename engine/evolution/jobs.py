"""Background evolution on the shared scheduler, and run control (pause/resume/stop).

``start_background(run_id, generations)`` schedules ``engine.evolution.jobs:evolve_job``
with job id ``evolution-{run_id}`` (one job per run; the scheduler's ``max_instances=1``
and :func:`engine.evolution.store.claim` keep one run from evolving twice at once). The job
writes progress to the run row every generation; pages poll :func:`engine.evolution.get_run`.
Pause and stop are *requests* stored on the run and honoured between generations. Which
control a run accepts is the one table in :mod:`engine.evolution.controls`; every function
here refuses what it refuses (``RunInfo.can_*`` read the same table).
"""

from __future__ import annotations

from typing import Any

from engine import scheduler
from engine.errors import StratLabError
from engine.evolution import controls, store
from engine.evolution.controls import job_id

JOB_FUNC = "engine.evolution.jobs:evolve_job"


def evolve_job(run_id: int, generations: int | None = None) -> dict[str, Any]:
    """The scheduled job: evolve and return the summary (recorded in ``job_runs``)."""
    from engine.evolution.runner import evolve

    s = evolve(run_id, generations)
    return {"status": s.status, **s.to_dict(), "history": s.history[-5:]}


def start_background(run_id: int, generations: int | None = None, *,
                     sched: Any | None = None) -> str:
    """Evolve ``run_id`` in the background (``generations`` more, or to the target)."""
    store.recover_interrupted()
    row = store.get_run_row(run_id)
    if row.status in store.ACTIVE:
        raise StratLabError(f"evolution run {run_id} is already {row.status}; wait for it, "
                            "or pause or stop it first")
    controls.require("evolve", run_id, row.status, row.requested_action)
    store.set_request(run_id, None, allowed=controls.TRANSITIONS["evolve"].statuses)
    return scheduler.schedule(JOB_FUNC, job_id=job_id(run_id), args=[run_id, generations],
                              name=f"evolution run {run_id}", scheduler=sched)


def request_pause(run_id: int) -> None:
    """Ask a running (or queued) run to pause after the generation in flight."""
    store.recover_interrupted()
    row = store.get_run_row(run_id)
    controls.require("pause", run_id, row.status, row.requested_action)
    store.set_request(run_id, "pause", allowed=controls.TRANSITIONS["pause"].statuses)


def request_stop(run_id: int) -> None:
    """Stop a run: a running one after the generation in flight, an idle one at once."""
    store.recover_interrupted()
    row = store.get_run_row(run_id)
    controls.require("stop", run_id, row.status, row.requested_action)
    if row.status == "running":
        store.set_request(run_id, "stop", allowed=("running",), status="stopping")
    else:
        idle = tuple(s for s in controls.TRANSITIONS["stop"].statuses if s != "running")
        store.set_request(run_id, None, allowed=idle, status="stopped")


def request_resume(run_id: int, generations: int | None = None, *,
                   sched: Any | None = None) -> str:
    """Resume a paused, interrupted, stopped or failed run in the background (or cancel a
    pause a running run has not reached yet); returns the job id."""
    store.recover_interrupted()
    row = store.get_run_row(run_id)
    controls.require("resume", run_id, row.status, row.requested_action)
    if row.status == "running":  # a pause is pending (the table's only running case)
        store.set_request(run_id, None, allowed=("running",))  # cancel the pending pause
        return job_id(run_id)
    return start_background(run_id, generations, sched=sched)


# runs left "running" by a dead process become "interrupted" when the scheduler starts
scheduler.on_startup(store.recover_interrupted)
