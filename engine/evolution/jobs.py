"""Background evolution on the shared scheduler, and run control (pause/resume/stop).

``start_background(run_id, generations)`` schedules ``engine.evolution.jobs:evolve_job``
with job id ``evolution-{run_id}`` (one job per run; the scheduler's ``max_instances=1``
and :func:`engine.evolution.store.claim` keep one run from evolving twice at once). The job
writes progress to the run row every generation; pages poll :func:`engine.evolution.get_run`.
Pause and stop are *requests* stored on the run and honoured between generations.
"""

from __future__ import annotations

from typing import Any

from engine import scheduler
from engine.evolution import store

JOB_FUNC = "engine.evolution.jobs:evolve_job"


def job_id(run_id: int) -> str:
    return f"evolution-{run_id}"


def evolve_job(run_id: int, generations: int | None = None) -> dict[str, Any]:
    """The scheduled job: evolve and return the summary (recorded in ``job_runs``)."""
    from engine.evolution.runner import evolve

    s = evolve(run_id, generations)
    return {"status": s.status, **s.to_dict(), "history": s.history[-5:]}


def start_background(run_id: int, generations: int | None = None, *,
                     sched: Any | None = None) -> str:
    """Evolve ``run_id`` in the background (``generations`` more, or to the target)."""
    row = store.get_run_row(run_id)
    if row.status in store.ACTIVE and store.owner_alive(row):
        from engine.errors import StratLabError

        raise StratLabError(f"evolution run {run_id} is already running")
    store.set_request(run_id, None, allowed=store_statuses())
    return scheduler.schedule(JOB_FUNC, job_id=job_id(run_id), args=[run_id, generations],
                              name=f"evolution run {run_id}", scheduler=sched)


def store_statuses() -> tuple[str, ...]:
    return ("created", "paused", "stopped", "completed", "interrupted", "failed")


def request_pause(run_id: int) -> None:
    """Ask a running (or queued) run to pause after the generation in flight."""
    store.recover_interrupted()
    store.set_request(run_id, "pause", allowed=("running", "created"))


def request_stop(run_id: int) -> None:
    """Stop a run: a running one after the generation in flight, an idle one at once."""
    store.recover_interrupted()
    row = store.get_run_row(run_id)
    if row.status == "running":
        store.set_request(run_id, "stop", allowed=("running",), status="stopping")
    else:
        store.set_request(run_id, None, allowed=("created", "paused", "interrupted",
                                                 "stopping", "stopped"), status="stopped")


def request_resume(run_id: int, generations: int | None = None, *,
                   sched: Any | None = None) -> str:
    """Resume a paused, interrupted or stopped run in the background; returns the job id."""
    store.recover_interrupted()
    row = store.get_run_row(run_id)
    if row.status == "running" and row.requested_action == "pause":
        store.set_request(run_id, None, allowed=("running",))  # cancel the pending pause
        return job_id(run_id)
    return start_background(run_id, generations, sched=sched)


scheduler.on_startup(store.recover_interrupted)  # runs left "running" by a dead process → interrupted
