"""The one background scheduler: evolution runs, retraining, outcome scoring.

One APScheduler ``BackgroundScheduler`` per process (the app creates it once through
``st.cache_resource``; the command line runs work directly and never starts one), with its
jobs in an ``SQLAlchemyJobStore`` in the lab's own database so scheduled jobs survive a
restart. Rules that keep background work safe inside a Streamlit app (PRACTICES.md):

- jobs are importable ``"module:function"`` references given only ids and plain values;
  each has an explicit id and ``replace_existing=True``;
- ``max_instances=1`` and ``coalesce=True`` by default, so one job never runs twice at once,
  and a generous ``misfire_grace_time`` for long one-off jobs;
- every run of every job is recorded in ``job_runs`` (start, end, status, result or the
  full traceback) by an event listener; a failing job never takes the app down;
- worker threads are daemons and :func:`shutdown` is registered with ``atexit``;
- start-up hooks (:func:`on_startup`) let each subsystem repair state a killed process left
  behind (e.g. mark evolution runs left "running" as interrupted).
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import traceback as tb
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import col, select

from engine import db
from engine.compat import guard_ast_parse
from engine.config import get_settings
from engine.errors import StratLabError
from engine.scheduler_tables import JOBS_TABLE, JobRun
from engine.tables import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobInfo:
    """A scheduled job and what happened the last time it ran."""

    id: str
    name: str
    func: str
    trigger: str
    next_run_time: datetime | None
    paused: bool
    last_status: str | None
    last_started: datetime | None
    last_finished: datetime | None
    last_error: str
    last_result: Any


_lock = threading.Lock()
_scheduler: BackgroundScheduler | None = None
_scheduler_url: str | None = None
_started_at: datetime | None = None  # when the process-wide scheduler started (naive UTC)
_startup_hooks: list[Callable[[], None]] = []


def on_startup(hook: Callable[[], None]) -> Callable[[], None]:
    """Register a function run each time the scheduler starts (before any job)."""
    if hook not in _startup_hooks:
        _startup_hooks.append(hook)
    return hook


def run_startup_hooks() -> None:
    """Run every start-up hook; a failing hook is logged and never blocks the start."""
    for hook in list(_startup_hooks):
        try:
            hook()
        except Exception:
            log.exception("scheduler start-up hook %s failed", getattr(hook, "__qualname__", hook))


def create_scheduler(url: str | None = None, *, workers: int = 2) -> BackgroundScheduler:
    """A new, not yet started scheduler on the database at ``url`` (default: the lab's)."""
    engine = db.init_db(url)
    sched = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=UTC,
        daemon=True,
    )
    pending: dict[str, int] = {}  # job id -> its "running" row
    early: dict[str, int] = {}  # job id -> outcomes recorded before their submission event
    lock = threading.Lock()

    def _listener(event) -> None:
        # Submission events come from the scheduler thread, outcomes from the executor's:
        # a job that fails within milliseconds can report before its submission is
        # recorded. One lock orders them; an early outcome makes the late submission a no-op.
        try:
            with lock:
                _record_event(event, pending, early)
        except Exception:  # never break the scheduler thread, never lose a record silently
            log.exception("could not record event %s of scheduled job %r in job_runs",
                          type(event).__name__, getattr(event, "job_id", None))

    sched.add_listener(
        _listener, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
    )
    return sched


def _record_event(event, pending: dict[str, int], early: dict[str, int]) -> None:
    now = utcnow()
    with db.session_scope() as s:
        if isinstance(event, JobSubmissionEvent):
            if early.get(event.job_id):
                early[event.job_id] -= 1
                return
            row = JobRun(job_id=event.job_id, status="running", started_at=now)
            s.add(row)
            s.flush()
            pending[event.job_id] = int(row.id)
            return
        assert isinstance(event, JobExecutionEvent)
        row_id = pending.pop(event.job_id, None)
        row = s.get(JobRun, row_id) if row_id is not None else None
        if row is None:
            row = JobRun(job_id=event.job_id, status="running", started_at=now)
            if event.code != EVENT_JOB_MISSED:  # it ran: its submission event is still due
                early[event.job_id] = early.get(event.job_id, 0) + 1
        if event.code == EVENT_JOB_MISSED:
            row.status = "missed"
        elif event.exception is not None:
            row.status = "error"
            exc = event.exception
            row.error = "".join(tb.format_exception(type(exc), exc, exc.__traceback__))
            if exc.__traceback__ is None and event.traceback:
                row.error = f"Traceback (most recent call last):\n{event.traceback}{row.error}"
        else:
            row.status = "success"
            row.result = _jsonable(event.retval)
        row.finished_at = now
        s.add(row)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)[:2000]


def get_scheduler() -> BackgroundScheduler:
    """The process-wide scheduler for the configured database, started on first call.

    If ``DATABASE_URL``/``STRATLAB_DATA_DIR`` changed since (tests do that), the old one is
    shut down first: two schedulers must never share — or straddle — job stores.
    """
    global _scheduler, _scheduler_url, _started_at
    url = get_settings().database_url
    with _lock:
        if _scheduler is not None and _scheduler_url != url:
            _stop_locked(wait=False)
        if _scheduler is None:
            guard_ast_parse()  # its threads format tracebacks while pages are parsed
            sched = create_scheduler(url)
            run_startup_hooks()
            sched.start()
            _scheduler, _scheduler_url, _started_at = sched, url, utcnow()
            atexit.register(shutdown)
        return _scheduler


def _stop_locked(wait: bool) -> None:
    global _scheduler, _scheduler_url, _started_at
    if _scheduler is not None and _scheduler.running:
        _scheduler.shutdown(wait=wait)
    _scheduler, _scheduler_url, _started_at = None, None, None


def started_at() -> datetime | None:
    """When this process's scheduler started (naive UTC), or None when none runs here."""
    return _started_at if _scheduler is not None and _scheduler.running else None


@contextmanager
def editing(url: str | None = None) -> Iterator[BackgroundScheduler]:
    """A paused scheduler on the job store, for adding or removing jobs from a process that
    must never run them (the command line, PRACTICES.md pitfall 4): it executes nothing, and
    is shut down on exit. A running app's scheduler reads the change at its next wake-up."""
    sched = create_scheduler(url)
    sched.start(paused=True)
    try:
        yield sched
    finally:
        sched.shutdown(wait=False)


def shutdown(wait: bool = False) -> None:
    """Stop the process-wide scheduler (jobs stay in the store for the next start)."""
    with _lock:
        _stop_locked(wait)


def schedule(
    func: str,
    *,
    job_id: str,
    trigger: str = "date",
    args: tuple | list = (),
    kwargs: dict[str, Any] | None = None,
    name: str | None = None,
    scheduler: BackgroundScheduler | None = None,
    **trigger_args: Any,
) -> str:
    """Add (or replace) a job running the importable ``"module:function"`` ``func``.

    ``trigger`` is ``"date"`` (run once, now unless ``run_date`` is given), ``"interval"``
    (``hours=24`` …) or ``"cron"``. Returns the job id.
    """
    if ":" not in func:
        raise StratLabError(f"job function {func!r} must be an importable 'module:function'")
    sched = scheduler or get_scheduler()
    if trigger == "date" and "run_date" not in trigger_args:
        trigger_args["run_date"] = datetime.now(UTC)
    sched.add_job(func, trigger, args=list(args), kwargs=kwargs or {}, id=job_id,
                  name=name or job_id, replace_existing=True, **trigger_args)
    return job_id


def _job(job_id: str, scheduler: BackgroundScheduler | None):
    sched = scheduler or get_scheduler()
    job = sched.get_job(job_id)
    if job is None:
        raise StratLabError(f"no scheduled job {job_id!r}; see the System page for the list")
    return sched, job


def run_now(job_id: str, scheduler: BackgroundScheduler | None = None) -> None:
    """Run a job at once (its schedule is kept for later runs)."""
    sched, job = _job(job_id, scheduler)
    job.modify(next_run_time=datetime.now(UTC))
    sched.wakeup()


def pause_job(job_id: str, scheduler: BackgroundScheduler | None = None) -> None:
    sched, _ = _job(job_id, scheduler)
    sched.pause_job(job_id)


def resume_job(job_id: str, scheduler: BackgroundScheduler | None = None) -> None:
    sched, _ = _job(job_id, scheduler)
    sched.resume_job(job_id)


def remove_job(job_id: str, scheduler: BackgroundScheduler | None = None) -> None:
    sched = scheduler or get_scheduler()
    try:
        sched.remove_job(job_id)
    except JobLookupError:
        raise StratLabError(f"no scheduled job {job_id!r}") from None


def last_runs(job_id: str | None = None, limit: int = 50) -> list[JobRun]:
    """Recorded executions, newest first (all jobs, or one)."""
    with db.session_scope() as s:
        q = select(JobRun).order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc())
        if job_id is not None:
            q = q.where(JobRun.job_id == job_id)
        return list(s.exec(q.limit(limit)).all())


def list_jobs(scheduler: BackgroundScheduler | None = None) -> list[JobInfo]:
    """Every job in the store with its next run time and last outcome."""
    sched = scheduler or get_scheduler()
    out = []
    for job in sched.get_jobs():
        runs = last_runs(job.id, limit=1)
        last = runs[0] if runs else None
        out.append(JobInfo(
            id=job.id,
            name=job.name,
            func=job.func_ref,
            trigger=str(job.trigger),
            next_run_time=job.next_run_time,
            paused=job.next_run_time is None,
            last_status=last.status if last else None,
            last_started=last.started_at if last else None,
            last_finished=last.finished_at if last else None,
            last_error=last.error if last else "",
            last_result=last.result if last else None,
        ))
    return out


def scheduler_state(scheduler: BackgroundScheduler | None = None) -> dict[str, Any]:
    """Running or not, job count and how many runs failed (for the System page)."""
    sched = scheduler or _scheduler
    with db.session_scope() as s:
        errors = len(s.exec(select(JobRun.id).where(JobRun.status == "error")).all())
    return {
        "running": bool(sched and sched.running),
        "jobs": len(sched.get_jobs()) if sched else 0,
        "failed_runs": errors,
    }
