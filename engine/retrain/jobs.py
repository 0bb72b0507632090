"""Retraining and the background jobs: queue, retrain, gate, deploy; the monitoring job.

**Retraining** (:func:`retrain_now`): the newest window is held out; a new version is trained
(``relationship="retrained_from"``, parent the old version) from the old version's
``TrainConfig`` with ``end`` moved to the last bar before the window (at least
``MIN_DATA_POINTS`` bars of training data). **Quality gate**
(:func:`~engine.retrain.gate.quality_gate`): both versions are evaluated on the held-out
window, which the new one never trained on; the new one is deployed (to every environment
where the old one is current, with that evaluation as its snapshot) only if its accuracy is
**strictly higher** and its return **not lower**; otherwise it stays an undeployed version
and the reason is recorded. A failure is recorded with its error and the deployed model
stays. A lock per model name (:mod:`engine.retrain.locks`) means a model is never retrained
twice at once, by threads or processes. Every entry point that lists or starts retrains
(:func:`enqueue`, :func:`retrain_now`, :func:`queue`, :func:`history`) first recovers dead
owners (``locks.recover_interrupted``), so a killed ``retrain now`` never stays ``running``.

**Background**: :func:`ensure_retrain_jobs` puts ``engine.retrain:monitor_job`` on the shared
scheduler (persistent job store, id ``retrain-monitor``, every ``monitor_interval_minutes``);
:func:`schedule_retrain` queues ``engine.retrain:retrain_job`` (id ``retrain-<version>``).
Those references are persisted in users' job stores, so both names stay importable from
``engine.retrain``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from engine import registry, scheduler
from engine.db import read_scope, session_scope
from engine.errors import StratLabError
from engine.processes import current_owner
from engine.registry import models as registry_models
from engine.retrain.gate import quality_gate
from engine.retrain.locks import RetrainBusy, acquire, recover_interrupted, release
from engine.retrain.monitor import check
from engine.retrain.policy import RetrainPolicy, get_policy
from engine.retrain.tables import ACTIVE_STATUSES, RetrainLock, RetrainRecord
from engine.retrain.window import policy_newest_window
from engine.tables import utcnow

MONITOR_JOB_ID = "retrain-monitor"
MONITOR_FUNC = "engine.retrain:monitor_job"
RETRAIN_FUNC = "engine.retrain:retrain_job"


# ----------------------------------------------------------------------------- retraining

def enqueue(version_id: str, trigger: str = "manual") -> RetrainRecord:
    """Queue a retrain of ``version_id`` (refused when its model is already queued or
    running — by a live process: dead owners are recovered first)."""
    recover_interrupted()
    info = registry.get_version(version_id)
    with session_scope() as s:
        busy = s.exec(select(RetrainRecord).where(
            RetrainRecord.model_name == info.model_name,
            col(RetrainRecord.status).in_(ACTIVE_STATUSES))).first()
        if busy is not None:
            raise RetrainBusy(f"a retrain of model {info.model_name} is already {busy.status} "
                              f"(record #{busy.id}); wait for it to finish")
        rec = RetrainRecord(version_id=version_id, model_name=info.model_name, trigger=trigger,
                            status="queued")
        s.add(rec)
        s.flush()
        return rec


def _update(record_id: int, **values: Any) -> RetrainRecord:
    with session_scope() as s:
        rec = s.get(RetrainRecord, record_id)
        for k, v in values.items():
            setattr(rec, k, v)
        s.add(rec)
        return rec


def retrain_now(version_id: str, trigger: str = "manual", *,
                policy: RetrainPolicy | None = None) -> RetrainRecord:
    """Retrain ``version_id`` now, apply the quality gate, and return the finished record.

    Raises :class:`RetrainBusy` when its model is already being retrained; every other
    failure is recorded (``status="failed"``, ``error``) and returned, and the deployed
    model stays as it was.
    """
    policy = policy or get_policy()
    old = registry.get_version(version_id)
    recover_interrupted()  # a retrain killed earlier must not hold the model forever
    try:
        acquire(old.model_name)
    except RetrainBusy as exc:
        with session_scope() as s:  # a queued request for this version cannot run now
            for rec in s.exec(select(RetrainRecord).where(
                    RetrainRecord.version_id == version_id,
                    RetrainRecord.status == "queued")).all():
                rec.status, rec.decision, rec.error = "failed", "failed", str(exc)
                rec.finished_at = utcnow()
                s.add(rec)
        raise
    try:
        with session_scope() as s:
            rec = s.exec(select(RetrainRecord).where(
                RetrainRecord.version_id == version_id, RetrainRecord.status == "queued")
                .order_by(col(RetrainRecord.created_at))).first()
            if rec is None:
                rec = RetrainRecord(version_id=version_id, model_name=old.model_name,
                                    trigger=trigger)
            me = current_owner()
            rec.status, rec.started_at, rec.owner_pid = "running", utcnow(), me.pid
            rec.details = {**(rec.details or {}),
                           "owner": {"host": me.host, "started": me.started}}
            s.add(rec)
            s.flush()
            record_id = int(rec.id)
            lock = s.get(RetrainLock, old.model_name)
            if lock is not None:
                lock.record_id = record_id
                s.add(lock)
        try:
            _retrain(record_id, old, policy)
        except Exception as exc:
            msg = str(exc) if isinstance(exc, StratLabError) else f"{type(exc).__name__}: {exc}"
            _update(record_id, status="failed", decision="failed", error=msg[:4000],
                    reason="retraining failed; the deployed model stays",
                    finished_at=utcnow())
        with session_scope() as s:
            return s.get(RetrainRecord, record_id)
    finally:
        release(old.model_name)


def _retrain(record_id: int, old: registry.ModelVersionInfo, policy: RetrainPolicy) -> None:
    cfg = registry.version_config(old)
    window = policy_newest_window(cfg, policy)
    ts = window.data["timestamp"]
    if window.start < 1:
        raise StratLabError("the dataset has no bars before the held-out window; import more "
                            "data or lower PERFORMANCE_WINDOW_DAYS / min_window_bars")
    train_end = ts[window.start - 1]
    n_train = int(((ts <= train_end) & (ts >= _parse(cfg.get("start"), ts[0]))).sum())
    if n_train < policy.min_data_points:
        raise StratLabError(
            f"only {n_train} bars before the held-out window, fewer than MIN_DATA_POINTS "
            f"({policy.min_data_points}); import more data or lower MIN_DATA_POINTS")
    new_cfg = {**cfg, "end": train_end.isoformat()}
    with read_scope() as s:
        owner = (s.get(RetrainRecord, record_id).details or {}).get("owner")
    details = {"train_end": new_cfg["end"], "train_bars": n_train, **window.bounds(),
               **({"owner": owner} if owner else {})}
    _update(record_id, details=details)
    result = registry_models.train_version(new_cfg, created_by="auto-retrain",
                                           parent_version=old.version_id,
                                           relationship="retrained_from", register=True)
    new_id = str(result.version_id)
    train_metrics = registry.flatten_metrics(dict(getattr(result, "metrics", {}) or {}))
    _update(record_id, new_version_id=new_id, new_metrics={"training": train_metrics})

    old_eval = registry.window_evaluation(old.version_id, window)
    new_eval = registry.window_evaluation(new_id, window)
    ok, reason = quality_gate(old_eval, new_eval)
    envs = [d.environment for d in registry.deployments()
            if d.status == "active" and d.version_id == old.version_id]
    if ok and not envs:
        ok, reason = False, reason.replace("; deployed", "") + (
            f"; {old.version_id} is not deployed anywhere, so nothing was replaced — deploy "
            f"{new_id} by hand")
    deployed = []
    if ok:
        for env in envs:
            registry.deploy(new_id, env, snapshot={**new_eval, "source": "retrain",
                                                   "captured_at": utcnow().isoformat()})
            deployed.append(env)
    _update(record_id, status="deployed" if ok else "kept", decision="deployed" if ok else "kept",
            reason=reason, environments=deployed,
            old_metrics={"holdout": old_eval,
                         "training": registry.flatten_metrics(old.performance_metrics)},
            new_metrics={"holdout": new_eval, "training": train_metrics},
            finished_at=utcnow())


def _parse(value: Any, default: datetime) -> datetime:
    if not value:
        return default
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return default


def queue() -> list[RetrainRecord]:
    """Retrains waiting or running, oldest first (a dead process's ``running`` retrain is
    marked ``interrupted`` first, so it moves to the history)."""
    recover_interrupted()
    with read_scope() as s:
        return list(s.exec(select(RetrainRecord).where(
            col(RetrainRecord.status).in_(ACTIVE_STATUSES))
            .order_by(col(RetrainRecord.created_at), col(RetrainRecord.id))).all())


def history(limit: int = 100, version_id: str | None = None) -> list[RetrainRecord]:
    """Finished retrains (deployed, kept, failed, interrupted), newest first (dead owners
    recovered first)."""
    recover_interrupted()
    with read_scope() as s:
        q = select(RetrainRecord).where(col(RetrainRecord.status).not_in(ACTIVE_STATUSES))
        if version_id:
            q = q.where(RetrainRecord.version_id == version_id)
        return list(s.exec(q.order_by(col(RetrainRecord.created_at).desc(),
                                      col(RetrainRecord.id).desc()).limit(limit)).all())


# ---------------------------------------------------------------------------- background

def retrain_job(version_id: str, trigger: str = "manual") -> dict[str, Any]:
    """Scheduled job: :func:`retrain_now` (its record is the result in ``job_runs``)."""
    return retrain_now(version_id, trigger).to_dict()


def monitor_job() -> dict[str, Any]:
    """Scheduled job: :func:`check`, then (if ``auto_retrain``) retrain every triggered model
    one after another."""
    policy = get_policy()
    statuses = check(policy)
    todo: dict[str, str] = {}
    for st in statuses:
        if st.should_retrain and st.version_id not in todo:
            todo[st.version_id] = "+".join(st.triggers)
    done = []
    if policy.auto_retrain:
        queued = []
        for vid, trig in todo.items():
            try:
                enqueue(vid, trig)
                queued.append((vid, trig))
            except StratLabError:
                continue
        for vid, trig in queued:
            try:
                rec = retrain_now(vid, trig, policy=policy)
                done.append({"version_id": vid, "record": rec.id, "status": rec.status,
                             "new_version_id": rec.new_version_id})
            except StratLabError:
                continue
    return {"checked": len(statuses), "triggered": todo, "retrained": done,
            "errors": {s.version_id: s.error for s in statuses if s.error}}


def schedule_retrain(version_id: str, trigger: str = "manual", *, sched: Any | None = None,
                     run_at: datetime | None = None) -> RetrainRecord:
    """Queue a retrain and run it in the background (job ``retrain-<version_id>``), now or
    at ``run_at`` (an aware datetime, or naive UTC)."""
    rec = enqueue(version_id, trigger)
    when = {} if run_at is None else {
        "run_date": run_at if run_at.tzinfo else run_at.replace(tzinfo=UTC)}
    try:
        scheduler.schedule(RETRAIN_FUNC, job_id=f"retrain-{version_id}",
                           args=[version_id, trigger], name=f"retrain {version_id}",
                           scheduler=sched, misfire_grace_time=24 * 3600, **when)
    except Exception:
        _update(int(rec.id), status="failed", decision="failed", finished_at=utcnow(),
                error="could not schedule the background job")
        raise
    return rec


def ensure_retrain_jobs(sched: Any | None = None) -> str:
    """Put the periodic monitoring job on the scheduler (kept as is when it already runs at
    the policy's interval, so a restart does not push its next run back)."""
    policy = get_policy()
    s = sched or scheduler.get_scheduler()
    scheduler.run_startup_hooks()  # in case the scheduler started before this import
    job = s.get_job(MONITOR_JOB_ID)
    every = timedelta(minutes=policy.monitor_interval_minutes)
    if job is not None and job.func_ref == MONITOR_FUNC and getattr(
            job.trigger, "interval", None) == every:
        return MONITOR_JOB_ID
    return scheduler.schedule(MONITOR_FUNC, job_id=MONITOR_JOB_ID, trigger="interval",
                              minutes=policy.monitor_interval_minutes,
                              name="model monitoring and auto-retrain", scheduler=s)


def monitor_job_info(sched: Any | None = None) -> dict[str, Any] | None:
    """The monitoring job as the page shows it: next run, interval, last outcome (or None
    when it is not scheduled)."""
    for job in scheduler.list_jobs(sched):
        if job.id == MONITOR_JOB_ID:
            return {"next_run_time": job.next_run_time, "trigger": job.trigger,
                    "paused": job.paused, "last_status": job.last_status,
                    "last_finished": job.last_finished, "last_result": job.last_result,
                    "last_error": job.last_error}
    return None
