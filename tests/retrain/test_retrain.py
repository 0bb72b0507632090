"""Auto-retrain: policy, trigger boundaries, quality gate, failures, locking, scheduler jobs."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

from engine import registry, retrain
from engine import scheduler as sch
from engine.errors import ParameterError, StratLabError
from engine.market import load_dataset
from engine.retrain import RetrainBusy, RetrainPolicy, evaluate_triggers
from engine.tables import utcnow
from tests.registry.factories import make_version, model_file

POLICY = RetrainPolicy()


# ----------------------------------------------------------------------------------- policy

def test_policy_defaults_env_and_saved_values(monkeypatch):
    p = retrain.get_policy()
    assert (p.accuracy_threshold, p.return_threshold_pct, p.interval_hours,
            p.performance_window_days, p.min_data_points) == (0.05, 2.0, 24.0, 7.0, 1000)
    monkeypatch.setenv("RETRAIN_THRESHOLD", "0.1")
    monkeypatch.setenv("RETRAIN_INTERVAL_HOURS", "12")
    monkeypatch.setenv("MIN_DATA_POINTS", "500")
    monkeypatch.setenv("PERFORMANCE_WINDOW_DAYS", "14")
    p = retrain.get_policy()
    assert (p.accuracy_threshold, p.interval_hours, p.min_data_points,
            p.performance_window_days) == (0.1, 12.0, 500, 14.0)
    saved = retrain.save_policy({"accuracy_threshold": 0.2, "auto_retrain": False})
    assert retrain.get_policy() == saved and saved.accuracy_threshold == 0.2
    assert saved.interval_hours == 12.0 and saved.auto_retrain is False
    assert retrain.reset_policy().accuracy_threshold == 0.1
    monkeypatch.setenv("RETRAIN_THRESHOLD", "lots")
    with pytest.raises(ParameterError, match="RETRAIN_THRESHOLD"):
        retrain.get_policy()
    monkeypatch.delenv("RETRAIN_THRESHOLD")
    with pytest.raises(ParameterError, match="interval_hours"):
        retrain.save_policy({"interval_hours": 0})
    with pytest.raises(ParameterError, match="unknown"):
        retrain.save_policy({"speed": 1})


# --------------------------------------------------------------------- trigger boundaries

def _fires(**kw):
    args = dict(snapshot_accuracy=None, live_accuracy=None, snapshot_return_pct=None,
                live_return_pct=None, hours_since_training=None)
    args.update(kw)
    return evaluate_triggers(POLICY, **args)


@pytest.mark.parametrize(("snap", "live", "fires"), [
    (0.85, 0.80, True),     # exactly 0.05 (0.04999… in floats) fires
    (0.60, 0.55, True),     # exactly 0.05 again
    (0.80, 0.70, True),
    (0.85, 0.8001, False),  # 0.0499 does not
    (0.60, 0.5500001, False),
    (0.50, 0.60, False),    # improvement
])
def test_accuracy_trigger_fires_at_the_threshold(snap, live, fires):
    assert (_fires(snapshot_accuracy=snap, live_accuracy=live) == ["accuracy"]) is fires


@pytest.mark.parametrize(("snap", "live", "fires"), [
    (5.0, 3.0, True),       # exactly 2 points
    (1.1, -0.9, True),      # exactly 2 points across zero
    (5.0, 3.01, False),     # 1.99 points
    (5.0, 2.0, True),
])
def test_return_trigger_fires_at_the_threshold(snap, live, fires):
    assert (_fires(snapshot_return_pct=snap, live_return_pct=live) == ["return"]) is fires


@pytest.mark.parametrize(("hours", "fires"), [(24.0, True), (23.999, False), (30.0, True)])
def test_interval_trigger_fires_at_the_threshold(hours, fires):
    assert (_fires(hours_since_training=hours) == ["interval"]) is fires


def test_all_triggers_together_and_none_without_numbers():
    assert _fires(snapshot_accuracy=0.9, live_accuracy=0.5, snapshot_return_pct=10.0,
                  live_return_pct=0.0, hours_since_training=100) == [
        "accuracy", "return", "interval"]
    assert _fires() == []


# ---------------------------------------------------------------------------------- check

def _deployed(fake, *, snap=(0.80, 5.0), live=(0.75, 4.0), env="paper"):
    v = make_version(accuracy=snap[0], return_pct=snap[1])
    registry.deploy(v.version_id, env, snapshot={"accuracy": snap[0], "return_pct": snap[1]})
    fake.evals[v.version_id] = {"accuracy": live[0], "return_pct": live[1], "n": 95}
    return v


def test_check_compares_the_newest_window_with_the_snapshot(fake):
    v = _deployed(fake)
    [st] = retrain.check()
    assert st.version_id == v.version_id and st.environment == "paper"
    assert st.live_accuracy == 0.75 and st.accuracy_drop == pytest.approx(0.05)
    assert st.triggers == ["accuracy"] and st.should_retrain and not st.error
    # the window is the newest bars, with the history the first prediction needs before it
    data = load_dataset("SYN-TREND")
    _, frame, start = fake.eval_calls[-1]
    assert frame["timestamp"][-1] == data["timestamp"][-1]
    assert st.window["window_bars"] == 100  # 7 days of daily bars < min_window_bars
    assert start == data["timestamp"][data.height - 100]
    assert frame.height == 100 + 49 + 20  # WARMUP + sequence_length of history
    # just below the threshold: nothing fires
    fake.evals[v.version_id]["accuracy"] = 0.7501
    assert retrain.check()[0].triggers == []
    # the interval counts from the version's training (or the last retrain attempt)
    later = registry.get_version(v.version_id).created_at + timedelta(hours=24)
    assert retrain.check(now=later)[0].triggers == ["interval"]
    assert retrain.check(now=later - timedelta(seconds=5))[0].triggers == []


def test_check_reports_a_tampered_model_without_failing(fake):
    v = _deployed(fake)
    with open(v.file_path, "ab") as fh:
        fh.write(b"x")
    [st] = retrain.check()
    assert "hash does not match" in st.error and st.triggers == []


# ----------------------------------------------------------------------- the quality gate

def test_a_better_model_is_deployed_with_its_holdout_snapshot(fake):
    old = _deployed(fake, live=(0.60, 2.0))
    registry.deploy(old.version_id, "production",
                    snapshot={"accuracy": 0.8, "return_pct": 5.0})
    fake.next_eval = {"accuracy": 0.66, "return_pct": 2.5, "n": 95}
    rec = retrain.retrain_now(old.version_id)
    assert rec.status == "deployed" and rec.decision == "deployed"
    assert sorted(rec.environments) == ["paper", "production"]
    new = registry.get_version(rec.new_version_id)
    assert new.parent_version == old.version_id and new.created_by == "auto-retrain"
    assert registry.lineage(new.version_id)["edges"] == [
        {"source": old.version_id, "target": new.version_id, "relationship": "retrained_from"}]
    for env in ("paper", "production"):
        cur = registry.current_deployment(env)
        assert cur.version_id == new.version_id
        assert cur.performance_snapshot["accuracy"] == 0.66
        assert cur.performance_snapshot["source"] == "retrain"
    assert rec.old_metrics["holdout"]["accuracy"] == 0.60
    assert rec.new_metrics["holdout"]["accuracy"] == 0.66
    assert "0.6600 > 0.6000" in rec.reason
    # trained only on bars before the held-out window, which both were evaluated on
    call = fake.train_calls[0]
    assert call["relationship"] == "retrained_from" and call["parent_version"] == old.version_id
    data = load_dataset("SYN-TREND")
    window_start = data["timestamp"][data.height - 100]
    assert datetime.fromisoformat(call["config"]["end"]) < window_start
    assert datetime.fromisoformat(call["config"]["end"]) == data["timestamp"][data.height - 101]
    starts = {(vid, s) for vid, _, s in fake.eval_calls}
    assert starts == {(old.version_id, window_start), (new.version_id, window_start)}
    assert rec.details["train_bars"] == data.height - 100


@pytest.mark.parametrize(("new", "why"), [
    ((0.55, 9.0), "not above"),          # lower accuracy
    ((0.60, 9.0), "not above"),          # equal accuracy does not beat
    ((0.70, 1.0), "return 1.00 % is below"),  # better accuracy, worse return
])
def test_the_quality_gate_refuses_a_model_that_does_not_beat_the_deployed_one(fake, new, why):
    old = _deployed(fake, live=(0.60, 2.0))
    fake.next_eval = {"accuracy": new[0], "return_pct": new[1], "n": 95}
    rec = retrain.retrain_now(old.version_id, trigger="accuracy")
    assert rec.status == "kept" and rec.decision == "kept" and rec.environments == []
    assert why in rec.reason and "not deployed" in rec.reason
    assert rec.trigger == "accuracy"
    assert registry.current_deployment("paper").version_id == old.version_id
    assert registry.get_version(rec.new_version_id).status == "ACTIVE"  # kept, undeployed
    assert [r.id for r in retrain.history()] == [rec.id] and retrain.queue() == []


def test_a_better_model_of_an_undeployed_version_is_kept_with_the_reason(fake):
    old = make_version()
    fake.evals[old.version_id] = {"accuracy": 0.5, "return_pct": 1.0}
    rec = retrain.retrain_now(old.version_id)
    assert rec.status == "kept" and "not deployed anywhere" in rec.reason
    assert registry.current_deployment("paper") is None


def test_a_failed_retrain_is_recorded_and_the_deployed_model_stays(fake):
    old = _deployed(fake)
    fake.train_error = RuntimeError("CUDA out of memory (simulated)")
    rec = retrain.retrain_now(old.version_id)
    assert rec.status == "failed" and rec.decision == "failed"
    assert "RuntimeError: CUDA out of memory" in rec.error and rec.new_version_id is None
    assert registry.current_deployment("paper").version_id == old.version_id
    assert len(registry.list_versions()) == 1
    # the lock was released: the next retrain runs
    fake.train_error = None
    fake.next_eval = {"accuracy": 0.9, "return_pct": 9.0}
    assert retrain.retrain_now(old.version_id).status == "deployed"


def test_too_little_training_data_fails_cleanly(fake):
    old = _deployed(fake)
    retrain.save_policy({"min_data_points": 10_000})
    rec = retrain.retrain_now(old.version_id)
    assert rec.status == "failed" and "MIN_DATA_POINTS" in rec.error
    assert fake.train_calls == []


def test_a_version_without_a_config_cannot_be_retrained(fake):
    v = registry.register_version(model_name="m", model_type="lstm", file_path=model_file(),
                                  metadata={}, performance_metrics={})
    rec = retrain.retrain_now(v.version_id)
    assert rec.status == "failed" and "no training configuration" in rec.error


# ----------------------------------------------------------------------------- concurrency

def test_the_same_model_is_never_retrained_twice_at_once(fake):
    old = _deployed(fake)
    fake.next_eval = {"accuracy": 0.9, "return_pct": 9.0}
    fake.gate, fake.started = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first():
        results["first"] = retrain.retrain_now(old.version_id)

    t = threading.Thread(target=first, daemon=True)
    t.start()
    assert fake.started.wait(10)
    assert [r.status for r in retrain.queue()] == ["running"]
    with pytest.raises(RetrainBusy, match="already being retrained"):
        retrain.retrain_now(old.version_id)
    with pytest.raises(RetrainBusy, match="already running"):
        retrain.enqueue(old.version_id)
    assert [s.retrain_running for s in retrain.check()] == [True]
    fake.gate.set()
    t.join(20)
    assert results["first"].status == "deployed"
    assert len(fake.train_calls) == 1
    assert len(retrain.history()) == 1 and retrain.queue() == []


def test_a_dead_owners_lock_is_cleared(fake):
    from engine.db import session_scope
    from engine.retrain.tables import RetrainLock, RetrainRecord

    old = _deployed(fake)
    fake.next_eval = {"accuracy": 0.9, "return_pct": 9.0}
    with session_scope() as s:
        rec = RetrainRecord(version_id=old.version_id, model_name=old.model_name,
                            status="running", owner_pid=2**22 + 12345)
        s.add(rec)
        s.flush()
        s.add(RetrainLock(model_name=old.model_name, record_id=rec.id,
                          owner_pid=2**22 + 12345))
    assert retrain.recover_interrupted() == [rec.id]
    assert retrain.history()[0].status == "interrupted"
    assert retrain.retrain_now(old.version_id).status == "deployed"


# -------------------------------------------------------------------------------- jobs

def test_monitor_job_retrains_triggered_models(fake):
    old = _deployed(fake, live=(0.70, 4.0))  # accuracy drop 0.10
    fake.next_eval = {"accuracy": 0.75, "return_pct": 5.0}
    out = retrain.monitor_job()
    assert out["triggered"] == {old.version_id: "accuracy"}
    [rec] = retrain.history()
    assert rec.trigger == "accuracy" and rec.status == "deployed"
    # nothing fires now (the new deployment's snapshot is its own holdout evaluation)
    assert retrain.monitor_job()["triggered"] == {}
    retrain.save_policy({"auto_retrain": False})
    fake.evals[rec.new_version_id]["accuracy"] = 0.1
    out = retrain.monitor_job()
    assert out["triggered"] and out["retrained"] == [] and len(retrain.history()) == 1


def test_jobs_survive_a_scheduler_restart(fake):
    v = _deployed(fake)
    first = sch.create_scheduler()
    first.start(paused=True)
    assert retrain.ensure_retrain_jobs(first) == retrain.MONITOR_JOB_ID
    # (not due yet: APScheduler's shutdown of a paused scheduler would process a due job)
    rec = retrain.schedule_retrain(v.version_id, sched=first,
                                   run_at=utcnow() + timedelta(hours=1))
    assert [r.id for r in retrain.queue()] == [rec.id]
    next_run = first.get_job(retrain.MONITOR_JOB_ID).next_run_time
    first.shutdown(wait=False)

    second = sch.create_scheduler()
    second.start(paused=True)
    try:
        mon = second.get_job(retrain.MONITOR_JOB_ID)
        assert mon.func_ref == "engine.retrain:monitor_job"
        assert mon.trigger.interval == timedelta(minutes=60)
        job = second.get_job(f"retrain-{v.version_id}")
        assert job.func_ref == "engine.retrain:retrain_job"
        assert list(job.args) == [v.version_id, "manual"]
        # ensuring again keeps the schedule; a new interval replaces it (never duplicates)
        retrain.ensure_retrain_jobs(second)
        assert second.get_job(retrain.MONITOR_JOB_ID).next_run_time == next_run
        retrain.save_policy({"monitor_interval_minutes": 15})
        retrain.ensure_retrain_jobs(second)
        assert second.get_job(retrain.MONITOR_JOB_ID).trigger.interval == timedelta(minutes=15)
        assert len(second.get_jobs()) == 2
    finally:
        second.shutdown(wait=False)


def test_a_scheduled_retrain_runs_in_the_background(fake):
    v = _deployed(fake)
    fake.next_eval = {"accuracy": 0.9, "return_pct": 9.0}
    s = sch.create_scheduler()
    s.start()
    try:
        rec = retrain.schedule_retrain(v.version_id, sched=s)
        with pytest.raises(StratLabError, match="already"):
            retrain.schedule_retrain(v.version_id, sched=s)
        end = time.monotonic() + 15
        while time.monotonic() < end and retrain.queue():
            time.sleep(0.05)
        [done] = retrain.history()
        assert done.id == rec.id and done.status == "deployed"
        end = time.monotonic() + 5
        while time.monotonic() < end and not any(
                r.status == "success" for r in sch.last_runs(f"retrain-{v.version_id}")):
            time.sleep(0.05)
        assert sch.last_runs(f"retrain-{v.version_id}")[0].status == "success"
    finally:
        s.shutdown(wait=False)


# ------------------------------------------------------------- policy ranges (issue 9, 14)

@pytest.mark.parametrize("field, value, needle", [
    ("accuracy_threshold", 5, r"accuracy_threshold \(RETRAIN_THRESHOLD\) must be a finite "
                              r"number at least 0 and below 1, got 5.*can never trigger"),
    ("accuracy_threshold", 1.0, r"below 1, got 1\.0"),
    ("return_threshold_pct", float("inf"), r"return_threshold_pct .* got inf \(nan and inf "
                                           r"are refused\).*use e\.g\. 2\.0"),
    ("return_threshold_pct", 101, r"at most 100, got 101"),
    ("performance_window_days", 1e9, r"performance_window_days \(PERFORMANCE_WINDOW_DAYS\) "
                                     r"must be .*at most 3650.*use e\.g\. 7"),
    ("interval_hours", float("nan"), r"interval_hours .* got nan"),
    ("min_window_bars", 10**9, r"min_window_bars .* at most 1000000"),
    ("monitor_interval_minutes", 10**7, r"monitor_interval_minutes .* at most 525600"),
])
def test_out_of_range_policy_values_are_refused_with_the_fix(field, value, needle):
    # saving passes the config rule (finite, sign) and then the policy's range
    with pytest.raises(ParameterError, match=rf"{field}.*(finite|at most|below)"):
        retrain.save_policy({field: value})
    with pytest.raises(ParameterError, match=needle):
        RetrainPolicy(**{field: value})
    assert retrain.get_policy() == RetrainPolicy()  # nothing was saved


def test_policy_values_from_the_command_line_and_environment_pass_the_same_ranges(
        monkeypatch, capsys):
    from engine.cli import main

    rc = main(["retrain", "policy", "--set", "accuracy_threshold=5"])
    assert rc == 2 and "accuracy_threshold (RETRAIN_THRESHOLD) must be" in \
        capsys.readouterr().err
    monkeypatch.setenv("PERFORMANCE_WINDOW_DAYS", "1e9")
    with pytest.raises(ParameterError, match="performance_window_days"):
        retrain.get_policy()
    monkeypatch.setenv("PERFORMANCE_WINDOW_DAYS", "3650")  # the edge itself is accepted
    assert retrain.get_policy().performance_window_days == 3650.0
    # in range, the window arithmetic of the largest window still works (no OverflowError)
    from datetime import datetime, timedelta

    assert datetime(2030, 1, 1) - timedelta(days=3650) < datetime(2030, 1, 1)
