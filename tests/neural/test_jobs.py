"""Background training: scheduler job → subprocess → progress rows → result; failures."""

from __future__ import annotations

import time

import pytest

from engine import scheduler
from engine.db import session_scope
from engine.neural import get_training_run, list_training_runs, start_training_job
from engine.neural.jobs import (
    create_training_run,
    execute_run,
    recover_interrupted,
    request_stop,
    training_job,
)
from engine.neural.tables import TrainingRun
from tests.neural.conftest import tiny


def _cfg(**kw):
    return tiny(**({"symbol": "SYN-TREND", "epochs": 2} | kw))


def _wait(run_id, timeout=120.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        run = get_training_run(run_id)
        if not run.active:
            return run
        time.sleep(0.3)
    raise AssertionError(f"training run {run_id} still {run.status} after {timeout}s")


@pytest.mark.slow
def test_job_trains_in_a_subprocess_and_writes_progress():
    sched = scheduler.create_scheduler()
    sched.start()
    try:
        job_id = start_training_job(_cfg(model_type="transformer"), sched=sched)
        assert job_id.startswith("training-")
        run = _wait(job_id)
    finally:
        sched.shutdown(wait=True)
    assert run.status == "completed", run.error
    assert run.device == "cpu" and run.epochs_done == 2 and run.version_id
    assert [e["epoch"] for e in run.epochs] == [1, 2]
    assert all(e["train_loss"] is not None and e["val_acc"] is not None for e in run.epochs)
    assert run.result["version_id"] == run.version_id
    # the stored result names the file relative to the data directory; reading resolves it
    from engine.config import get_settings
    from engine.registry import verify_file

    with session_scope() as s:
        stored = s.get(TrainingRun, run.id).result["file_path"]
    assert stored.startswith("models/") and stored.endswith(".pt")
    assert run.result["file_path"] == str(get_settings().data_dir / stored)
    assert verify_file(run.version_id) == get_settings().data_dir / stored
    assert {"metrics", "backtest", "baseline_backtest", "predictions", "equity",
            "history"} <= set(run.result)
    listed = list_training_runs()
    assert [r.id for r in listed] == [run.id] and listed[0].result is None
    from engine.scheduler import last_runs

    assert last_runs(job_id)[0].status == "success"


def test_failed_training_is_recorded_and_nothing_crashes():
    run_id = create_training_run(_cfg(symbol="NO-SUCH-DATA"), register=False)
    out = training_job(run_id)
    assert out["status"] == "failed" and out["returncode"] != 0
    run = get_training_run(run_id)
    assert run.status == "failed" and "NO-SUCH-DATA" in run.error


def test_a_run_whose_process_died_is_interrupted():
    run_id = create_training_run(_cfg(), register=False)
    with session_scope() as s:
        row = s.get(TrainingRun, run_id)
        row.status, row.pid = "running", 2**22 + 12345  # no such process
        s.add(row)
    assert recover_interrupted() == [run_id]
    assert get_training_run(run_id).status == "interrupted"


def test_stop_requests(planted):
    queued = create_training_run(_cfg(), register=False)
    request_stop(queued)
    assert get_training_run(queued).status == "stopped"
    run_id = create_training_run(_cfg(epochs=5), register=False)
    with session_scope() as s:
        row = s.get(TrainingRun, run_id)
        row.requested_action = "stop"  # as if asked while the first epoch ran
        s.add(row)
    result = execute_run(run_id)
    run = get_training_run(run_id)
    assert result.epochs_run == 1 and run.status == "stopped" and run.result is not None
    with pytest.raises(Exception, match="only a queued or running"):
        request_stop(run_id)
