"""The shared background scheduler: persistence, failure records, one instance at a time."""

from __future__ import annotations

import threading
import time
from datetime import UTC

import pytest

from engine import scheduler as sch

CALLS: list[str] = []
RUNNING = threading.Event()
RELEASE = threading.Event()


def ok_job(tag: str) -> dict:
    CALLS.append(tag)
    return {"tag": tag}


def failing_job() -> None:
    raise ValueError("the job broke on purpose")


def slow_job() -> None:
    RUNNING.set()
    RELEASE.wait(10)


def _wait(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def sched():
    s = sch.create_scheduler()
    s.start()
    yield s
    s.shutdown(wait=False)


def test_jobs_survive_a_restart_of_the_scheduler():
    first = sch.create_scheduler()
    first.start(paused=True)
    sch.schedule("tests.test_scheduler:ok_job", job_id="nightly", trigger="interval", hours=24,
                 args=["x"], scheduler=first)
    next_run = first.get_job("nightly").next_run_time
    first.shutdown(wait=False)

    second = sch.create_scheduler()
    second.start(paused=True)
    try:
        job = second.get_job("nightly")
        assert job is not None and job.func_ref == "tests.test_scheduler:ok_job"
        assert job.next_run_time == next_run
        assert [j.id for j in sch.list_jobs(second)] == ["nightly"]
        # scheduling again with the same id replaces, never duplicates
        sch.schedule("tests.test_scheduler:ok_job", job_id="nightly", trigger="interval",
                     hours=12, args=["y"], scheduler=second)
        assert len(second.get_jobs()) == 1
    finally:
        second.shutdown(wait=False)


def test_success_and_failure_are_recorded_with_the_traceback(sched):
    sch.schedule("tests.test_scheduler:ok_job", job_id="ok", args=["a"], scheduler=sched)
    sch.schedule("tests.test_scheduler:failing_job", job_id="bad", scheduler=sched)
    assert _wait(lambda: {r.job_id for r in sch.last_runs() if r.status != "running"}
                 >= {"ok", "bad"})
    runs = {r.job_id: r for r in sch.last_runs()}
    assert runs["ok"].status == "success" and runs["ok"].result == {"tag": "a"}
    assert runs["bad"].status == "error"
    assert "ValueError: the job broke on purpose" in runs["bad"].error
    assert "Traceback" in runs["bad"].error
    assert sched.running  # a failing job does not take the scheduler down
    assert sch.scheduler_state(sched)["failed_runs"] == 1


def test_one_job_never_runs_twice_at_once(sched):
    RUNNING.clear()
    RELEASE.clear()
    sch.schedule("tests.test_scheduler:slow_job", job_id="slow", trigger="interval",
                 seconds=0.2, scheduler=sched)
    sch.run_now("slow", scheduler=sched)
    assert RUNNING.wait(5)
    time.sleep(0.8)  # several intervals pass while the first run is still going
    running = [r for r in sch.last_runs("slow") if r.status == "running"]
    RELEASE.set()
    assert len(running) == 1


def test_pause_resume_remove_and_unknown_jobs(sched):
    sch.schedule("tests.test_scheduler:ok_job", job_id="p", trigger="interval", hours=1,
                 args=["p"], scheduler=sched)
    sch.pause_job("p", scheduler=sched)
    assert sch.list_jobs(sched)[0].paused
    sch.resume_job("p", scheduler=sched)
    assert not sch.list_jobs(sched)[0].paused
    sch.remove_job("p", scheduler=sched)
    assert sch.list_jobs(sched) == []
    with pytest.raises(sch.StratLabError, match="no scheduled job"):
        sch.run_now("p", scheduler=sched)
    with pytest.raises(sch.StratLabError, match="module:function"):
        sch.schedule("ok_job", job_id="x", scheduler=sched)


def test_process_wide_scheduler_is_created_once_and_runs_startup_hooks():
    seen = []
    hook = sch.on_startup(lambda: seen.append(1))
    try:
        a = sch.get_scheduler()
        b = sch.get_scheduler()
        assert a is b and a.running and seen == [1]
    finally:
        sch.shutdown()
        sch._startup_hooks.remove(hook)
    assert sch._scheduler is None


def test_process_wide_scheduler_follows_the_configured_database(monkeypatch, tmp_path):
    from engine.config import reset_settings

    first = sch.get_scheduler()
    monkeypatch.setenv("STRATLAB_DATA_DIR", str(tmp_path / "other"))
    reset_settings()
    second = sch.get_scheduler()
    assert second is not first and not first.running and second.running
    assert str(second._jobstores["default"].engine.url).endswith("other/lab.db")


def test_outcome_reported_before_its_submission_leaves_no_phantom_running_row():
    """A job failing within milliseconds can report before its submission is recorded."""
    from datetime import datetime

    from apscheduler.events import (
        EVENT_JOB_ERROR,
        EVENT_JOB_SUBMITTED,
        JobExecutionEvent,
        JobSubmissionEvent,
    )

    pending, early = {}, {}
    now = datetime.now(UTC)
    try:
        raise ValueError("fast failure")
    except ValueError as exc:
        err = exc
    sch._record_event(JobExecutionEvent(EVENT_JOB_ERROR, "fast", "default", now,
                                        exception=err, traceback=""), pending, early)
    sch._record_event(JobSubmissionEvent(EVENT_JOB_SUBMITTED, "fast", "default", [now]),
                      pending, early)
    runs = sch.last_runs("fast")
    assert [r.status for r in runs] == ["error"]
    assert "fast failure" in runs[0].error


def test_an_immediately_failing_job_is_recorded_once_as_error(sched):
    for i in range(5):
        sch.schedule("tests.test_scheduler:failing_job", job_id=f"f{i}", scheduler=sched)
    assert _wait(lambda: len([r for r in sch.last_runs() if r.status == "error"]) == 5)
    time.sleep(0.3)
    assert [r.status for r in sch.last_runs()].count("running") == 0


def test_a_failing_startup_hook_is_logged_and_does_not_block_the_start(caplog):
    def broken():
        raise RuntimeError("hook broke")

    seen = []
    sch.on_startup(broken)
    ok_hook = sch.on_startup(lambda: seen.append(1))
    try:
        assert sch.get_scheduler().running and seen == [1]
        assert "hook broke" in caplog.text
    finally:
        sch.shutdown()
        sch._startup_hooks.remove(broken)
        sch._startup_hooks.remove(ok_hook)


def test_a_job_run_right_after_init_db_is_recorded(tmp_path):
    """The old release lost this record: init_db ran before engine.scheduler was imported,
    so job_runs did not exist and the listener swallowed the error."""
    import os
    import subprocess
    import sys

    from engine.config import PROJECT_ROOT

    code = """
import time
from engine import db
db.init_db()
from engine import scheduler
s = scheduler.create_scheduler()
s.start()
scheduler.schedule("os:getcwd", job_id="right-after-init", scheduler=s)
for _ in range(200):
    runs = scheduler.last_runs("right-after-init")
    if runs and runs[0].status != "running":
        break
    time.sleep(0.05)
s.shutdown(wait=True)
print([(r.job_id, r.status) for r in scheduler.last_runs("right-after-init")])
"""
    env = {**os.environ, "STRATLAB_DATA_DIR": str(tmp_path / "lab")}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[('right-after-init', 'success')]"


def test_a_listener_that_cannot_record_logs_the_error(sched, monkeypatch, caplog):
    """A failure to write job_runs is logged with its traceback, never swallowed."""
    def broken_scope():
        raise RuntimeError("database is gone")

    monkeypatch.setattr(sch.db, "session_scope", broken_scope)
    with caplog.at_level("ERROR", logger="engine.scheduler"):
        sch.schedule("tests.test_scheduler:ok_job", job_id="unrecorded", args=["u"],
                     scheduler=sched)
        assert _wait(lambda: "u" in CALLS)
        assert _wait(lambda: "could not record event" in caplog.text)
    rec = next(r for r in caplog.records if "could not record event" in r.getMessage())
    assert "'unrecorded'" in rec.getMessage()
    assert rec.exc_info and "database is gone" in str(rec.exc_info[1])
