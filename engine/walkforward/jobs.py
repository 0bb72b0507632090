"""Walk-forward analyses in the background, on the shared scheduler.

``start_background(analysis_id)`` schedules ``engine.walkforward.jobs:walkforward_job``
with job id ``walkforward-{analysis_id}`` (one job per analysis; :func:`store.claim` keeps
one analysis from running twice at once). The job writes progress to the analysis row as
each window finishes (and every evolution run writes its own per generation); pages poll
:func:`engine.walkforward.get_analysis`. Resuming an interrupted or failed analysis is
starting it again: finished windows are kept.
"""

from __future__ import annotations

from typing import Any

from engine import scheduler
from engine.errors import StratLabError
from engine.walkforward import store

JOB_FUNC = "engine.walkforward.jobs:walkforward_job"


def job_id(analysis_id: int) -> str:
    return f"walkforward-{analysis_id}"


def walkforward_job(analysis_id: int) -> dict[str, Any]:
    """The scheduled job: run (or resume) the analysis; returns its status and efficiency."""
    from engine.walkforward.runner import run_analysis

    info = run_analysis(analysis_id)
    return {"analysis_id": analysis_id, "status": info.status,
            "efficiency": (info.result or {}).get("efficiency")}


def start_background(analysis_id: int, *, sched: Any | None = None) -> str:
    """Run (or resume) ``analysis_id`` in the background; returns the job id."""
    store.recover_interrupted()
    row = store.get_row(analysis_id)
    if row.status == "running":
        raise StratLabError(f"walk-forward analysis {analysis_id} is already running; wait "
                            "for it to finish")
    if row.status == "completed":
        raise StratLabError(f"walk-forward analysis {analysis_id} is already completed; "
                            "create a new one to run again")
    return scheduler.schedule(JOB_FUNC, job_id=job_id(analysis_id), args=[analysis_id],
                              name=f"walk-forward analysis {analysis_id}", scheduler=sched)


# analyses left "running" by a dead process become "interrupted" when the scheduler starts
scheduler.on_startup(store.recover_interrupted)
