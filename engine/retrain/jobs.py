"""Auto-retraining: monitor deployed models, retrain them, and deploy only what is better.

**Policy** (:class:`RetrainPolicy`): the seed's defaults, overridden by environment variables
of the seed's names, overridden in turn by values saved on the Auto-Retrain page
(``retrain_settings``; :func:`reset_policy` forgets them).

**Monitoring** (:func:`check`): for every active deployment, the deployed version is
evaluated (``engine.neural.evaluate_window``) on the newest window — the bars of the last
``PERFORMANCE_WINDOW_DAYS`` days of its dataset, at least ``min_window_bars`` bars — and
compared with the deployment's ``performance_snapshot``. Triggers, each compared with
**>=** (a drop exactly at the threshold fires; 1e-9 absorbs float noise such as
0.85 − 0.80 = 0.04999…):

- ``accuracy``: snapshot accuracy − live accuracy >= ``RETRAIN_THRESHOLD`` (0.05, absolute);
- ``return``: snapshot return % − live return % >= ``RETRAIN_RETURN_THRESHOLD`` (2.0 points);
- ``interval``: hours since the model was last trained or a retrain of it was last
  attempted >= ``RETRAIN_INTERVAL_HOURS`` (24);
- ``manual``: :func:`retrain_now` / the page's **Retrain now**.

**Retraining** (:func:`retrain_now`): the newest window is held out; a new version is trained
(``relationship="retrained_from"``, parent the old version) from the old version's
``TrainConfig`` with ``end`` moved to the last bar before the window (at least
``MIN_DATA_POINTS`` bars of training data). **Quality gate**: both versions are evaluated on
the held-out window, which the new one never trained on; the new one is deployed (to every
environment where the old one is current, with that evaluation as its snapshot) only if its
accuracy is **strictly higher** and its return **not lower**; otherwise it stays an
undeployed version and the reason is recorded. A failure is recorded with its error and the
deployed model stays. One lock row per model name (``retrain_locks``) means a model is never
retrained twice at once, by threads or processes.

**Background**: :func:`ensure_retrain_jobs` puts ``engine.retrain:monitor_job`` on the shared
scheduler (persistent job store, id ``retrain-monitor``, every ``monitor_interval_minutes``);
:func:`schedule_retrain` queues ``engine.retrain:retrain_job`` (id ``retrain-<version>``).
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from engine import registry, scheduler
from engine.db import session_scope
from engine.errors import StratLabError
from engine.processes import owner_alive
from engine.retrain.policy import RetrainPolicy, get_policy
from engine.retrain.tables import ACTIVE_STATUSES, RetrainLock, RetrainRecord
from engine.tables import utcnow

MONITOR_JOB_ID = "retrain-monitor"
MONITOR_FUNC = "engine.retrain:monitor_job"
RETRAIN_FUNC = "engine.retrain:retrain_job"
EPS = 1e-9
FEATURE_WARMUP = 49  # engine.neural.features.WARMUP, used if the neural package is absent


class RetrainBusy(StratLabError):
    """A retrain of the same model is already running."""


# ------------------------------------------------------------------------- neural seams

def _train_model(config: dict[str, Any], **kwargs: Any) -> Any:
    """``engine.neural.train_model(TrainConfig(**config), **kwargs)`` (tests replace this)."""
    from engine.neural import TrainConfig, train_model

    return train_model(TrainConfig(**config), **kwargs)


def _evaluate_window(version_id: str, data: Any, start: Any = None) -> dict[str, Any]:
    """``engine.neural.evaluate_window(version_id, data, start=start)`` (tests replace this):
    accuracy and strategy return on the bars from ``start`` on, ``data`` holding the
    history the first window needs before it."""
    from engine.neural import evaluate_window

    return evaluate_window(version_id, data, start=start)


def window_equity(version_id: str, data: Any, start: Any) -> dict[str, list]:
    """The version's strategy equity on ``data``'s bars from ``start`` on (recomputed from
    the model's predictions, for versions whose metrics store no equity curve)."""
    from engine.neural import load_model, predict
    from engine.neural.strategy import backtest_signals, signals_from_proba

    registry.verify_file(version_id)
    loaded = load_model(version_id)
    pred = predict(loaded, data).filter(pl_col("timestamp") >= start)
    if pred.height == 0:
        raise StratLabError(f"no predictions of {version_id} on or after {start}")
    first = int((data["timestamp"] < pred["timestamp"][0]).sum())
    proba = pred.select("prob_sell", "prob_hold", "prob_buy").to_numpy()
    bt = backtest_signals(data, first, signals_from_proba(proba, loaded.config.prob_threshold),
                          name=f"neural:{version_id}", commission=loaded.config.commission)
    eq = bt.equity
    xs = eq["timestamp"] if "timestamp" in eq.columns else data["timestamp"].slice(first)
    return {"x": [t.isoformat() for t in xs.to_list()],
            "y": [float(v) for v in eq["equity"].to_list()]}


def pl_col(name: str) -> Any:
    import polars as pl

    return pl.col(name)


# ----------------------------------------------------------------------------- the window

def _config(info: registry.ModelVersionInfo) -> dict[str, Any]:
    cfg = info.metadata.get("config")
    if not isinstance(cfg, dict) or not cfg.get("symbol"):
        raise StratLabError(
            f"version {info.version_id} has no training configuration (metadata['config'] "
            "with a symbol), so it cannot be monitored or retrained; retrain it from the "
            "Neural Models page")
    return dict(cfg)


def _context_bars(cfg: dict[str, Any]) -> int:
    try:
        from engine.neural.features import WARMUP
    except Exception:
        WARMUP = FEATURE_WARMUP  # noqa: N806
    return int(WARMUP) + int(cfg.get("sequence_length") or 60)


@dataclass(frozen=True)
class _Window:
    data: Any  # the full dataset (polars)
    start: int  # index of the window's first bar
    eval_data: Any  # window plus the bars the first prediction needs before it

    @property
    def n_bars(self) -> int:
        return self.data.height - self.start

    def bounds(self) -> dict[str, Any]:
        ts = self.data["timestamp"]
        return {"window_start": ts[self.start].isoformat(), "window_end": ts[-1].isoformat(),
                "window_bars": self.n_bars}


def newest_window(cfg: dict[str, Any], policy: RetrainPolicy) -> _Window:
    """The newest ``performance_window_days`` of the version's dataset (>= min_window_bars
    bars), with ``WARMUP + sequence_length`` bars of history before it (what the first
    prediction on the window's first bar needs)."""
    from engine.market import load_dataset

    data = load_dataset(cfg["symbol"])
    ts = data["timestamp"]
    cutoff = ts[-1] - timedelta(days=policy.performance_window_days)
    n_recent = int((ts > cutoff).sum())
    n = min(max(n_recent, policy.min_window_bars), data.height)
    start = data.height - n
    ctx = _context_bars(cfg)
    return _Window(data=data, start=start, eval_data=data.slice(max(0, start - ctx)))


def _evaluation(version_id: str, window: _Window) -> dict[str, Any]:
    registry.verify_file(version_id)
    ev = dict(_evaluate_window(version_id, window.eval_data,
                               window.data["timestamp"][window.start]) or {})
    return {"accuracy": registry.finite_number(ev.get("accuracy")),
            "return_pct": registry.finite_number(ev.get("return_pct")),
            "n": ev.get("n"), **window.bounds()}


def window_snapshot(version_id: str, policy: RetrainPolicy | None = None) -> dict[str, Any]:
    """The version evaluated on the newest window (what a deployment is monitored against)."""
    info = registry.get_version(version_id)
    return _evaluation(version_id, newest_window(_config(info), policy or get_policy()))


# ------------------------------------------------------------------------------ monitoring

def evaluate_triggers(
    policy: RetrainPolicy,
    *,
    snapshot_accuracy: float | None,
    live_accuracy: float | None,
    snapshot_return_pct: float | None,
    live_return_pct: float | None,
    hours_since_training: float | None,
) -> list[str]:
    """The triggers that fire (``accuracy``, ``return``, ``interval``); every comparison is
    ``drop >= threshold`` — exactly at the threshold fires, just below does not."""
    out = []
    if snapshot_accuracy is not None and live_accuracy is not None and (
            snapshot_accuracy - live_accuracy >= policy.accuracy_threshold - EPS):
        out.append("accuracy")
    if snapshot_return_pct is not None and live_return_pct is not None and (
            snapshot_return_pct - live_return_pct >= policy.return_threshold_pct - EPS):
        out.append("return")
    if hours_since_training is not None and (
            hours_since_training >= policy.interval_hours - EPS):
        out.append("interval")
    return out


@dataclass
class MonitorStatus:
    """One deployed model against its deployment snapshot."""

    environment: str
    deployment_id: str
    version_id: str
    model_name: str
    deployed_at: datetime
    snapshot_accuracy: float | None = None
    snapshot_return_pct: float | None = None
    live_accuracy: float | None = None
    live_return_pct: float | None = None
    n: int | None = None
    accuracy_drop: float | None = None
    return_drop: float | None = None
    hours_since_training: float | None = None
    window: dict[str, Any] = field(default_factory=dict)
    triggers: list[str] = field(default_factory=list)
    retrain_running: bool = False
    error: str = ""

    @property
    def should_retrain(self) -> bool:
        return bool(self.triggers) and not self.retrain_running

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["deployed_at"] = self.deployed_at.isoformat()
        d["should_retrain"] = self.should_retrain
        return d


def _last_trained(info: registry.ModelVersionInfo) -> datetime:
    with session_scope() as s:
        last = s.exec(select(RetrainRecord.created_at)
                      .where(RetrainRecord.model_name == info.model_name)
                      .order_by(col(RetrainRecord.created_at).desc())).first()
    return max(info.created_at, last) if last else info.created_at


def check(policy: RetrainPolicy | None = None, *, now: datetime | None = None,
          ) -> list[MonitorStatus]:
    """Every active deployment's live metrics on the newest window and the triggers that
    fire. A model that cannot be evaluated (tampered file, missing dataset) gets ``error``
    and no triggers."""
    policy = policy or get_policy()
    now = now or utcnow()
    out = []
    for dep in registry.deployments():
        if dep.status != "active":
            continue
        snap = dep.performance_snapshot or {}
        st = MonitorStatus(environment=dep.environment, deployment_id=dep.deployment_id,
                           version_id=dep.version_id, model_name=dep.model_name,
                           deployed_at=dep.deployed_at,
                           snapshot_accuracy=registry.finite_number(snap.get("accuracy")),
                           snapshot_return_pct=registry.finite_number(snap.get("return_pct")))
        out.append(st)
        try:
            info = registry.get_version(dep.version_id)
            st.retrain_running = _lock_holder(info.model_name) is not None
            st.hours_since_training = (now - _last_trained(info)).total_seconds() / 3600.0
            window = newest_window(_config(info), policy)
            live = _evaluation(dep.version_id, window)
        except Exception as exc:  # shown per model; one broken model never stops the rest
            st.error = str(exc) if isinstance(exc, StratLabError) else (
                f"{type(exc).__name__}: {exc}")
            continue
        st.live_accuracy, st.live_return_pct = live["accuracy"], live["return_pct"]
        st.n = live.get("n")
        st.window = {k: live[k] for k in ("window_start", "window_end", "window_bars")}
        if st.snapshot_accuracy is not None and st.live_accuracy is not None:
            st.accuracy_drop = st.snapshot_accuracy - st.live_accuracy
        if st.snapshot_return_pct is not None and st.live_return_pct is not None:
            st.return_drop = st.snapshot_return_pct - st.live_return_pct
        st.triggers = evaluate_triggers(
            policy, snapshot_accuracy=st.snapshot_accuracy, live_accuracy=st.live_accuracy,
            snapshot_return_pct=st.snapshot_return_pct, live_return_pct=st.live_return_pct,
            hours_since_training=st.hours_since_training)
    return out


# ----------------------------------------------------------------------------------- locks

def _alive(pid: int | None, host: str) -> bool:
    return owner_alive(pid, host)


def _lock_holder(model_name: str) -> RetrainLock | None:
    with session_scope() as s:
        row = s.get(RetrainLock, model_name)
        if row is not None and not _alive(row.owner_pid, row.owner_host):
            s.delete(row)
            return None
        return row


def _acquire(model_name: str) -> None:
    _lock_holder(model_name)  # clears a dead owner's lock
    try:
        with session_scope() as s:
            s.add(RetrainLock(model_name=model_name, record_id=0, owner_pid=os.getpid(),
                              owner_host=socket.gethostname()))
    except IntegrityError:
        holder = _lock_holder(model_name)
        rec = f" (record #{holder.record_id})" if holder and holder.record_id else ""
        raise RetrainBusy(f"model {model_name} is already being retrained{rec}; wait for it "
                          "to finish (see the retrain queue)") from None


def _release(model_name: str) -> None:
    with session_scope() as s:
        row = s.get(RetrainLock, model_name)
        if row is not None and row.owner_pid == os.getpid():
            s.delete(row)


def recover_interrupted() -> list[int]:
    """Release locks of dead processes and mark their running records ``interrupted``."""
    fixed = []
    with session_scope() as s:
        for lock in s.exec(select(RetrainLock)).all():
            if not _alive(lock.owner_pid, lock.owner_host):
                s.delete(lock)
        held = {lk.record_id for lk in s.exec(select(RetrainLock)).all()}
        for rec in s.exec(select(RetrainRecord).where(RetrainRecord.status == "running")).all():
            if rec.id not in held and not _alive(rec.owner_pid, ""):
                rec.status, rec.decision = "interrupted", "failed"
                rec.error = rec.error or "the process running this retrain stopped"
                rec.finished_at = utcnow()
                s.add(rec)
                fixed.append(int(rec.id))
    return fixed


scheduler.on_startup(recover_interrupted)  # runs left "running" by a dead process → interrupted


# ----------------------------------------------------------------------------- retraining

def quality_gate(old: dict[str, Any], new: dict[str, Any]) -> tuple[bool, str]:
    """Deploy the new version only if, on the same held-out window, its accuracy is strictly
    higher than the deployed version's and its return is not lower. Returns (deploy, why)."""
    oa, na = old.get("accuracy"), new.get("accuracy")
    orr, nr = old.get("return_pct"), new.get("return_pct")
    if na is None or oa is None:
        return False, "accuracy on the held-out window is unknown; not deployed"
    if not na > oa + EPS:
        return False, (f"new accuracy {na:.4f} is not above the deployed version's {oa:.4f} "
                       "on the held-out window; kept, not deployed")
    if nr is not None and orr is not None and nr < orr - EPS:
        return False, (f"new accuracy {na:.4f} > {oa:.4f}, but its return {nr:.2f} % is below "
                       f"the deployed version's {orr:.2f} % on the held-out window; kept, "
                       "not deployed")
    ret = f" and return {nr:.2f} % >= {orr:.2f} %" if nr is not None and orr is not None else ""
    return True, f"new accuracy {na:.4f} > {oa:.4f}{ret} on the held-out window; deployed"


def enqueue(version_id: str, trigger: str = "manual") -> RetrainRecord:
    """Queue a retrain of ``version_id`` (refused when its model is already queued or
    running)."""
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
    try:
        _acquire(old.model_name)
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
            rec.status, rec.started_at, rec.owner_pid = "running", utcnow(), os.getpid()
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
        _release(old.model_name)


def _retrain(record_id: int, old: registry.ModelVersionInfo, policy: RetrainPolicy) -> None:
    cfg = _config(old)
    window = newest_window(cfg, policy)
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
    details = {"train_end": new_cfg["end"], "train_bars": n_train, **window.bounds()}
    _update(record_id, details=details)
    result = _train_model(new_cfg, created_by="auto-retrain", parent_version=old.version_id,
                          relationship="retrained_from", register=True)
    new_id = str(result.version_id)
    train_metrics = registry.flatten_metrics(dict(getattr(result, "metrics", {}) or {}))
    _update(record_id, new_version_id=new_id, new_metrics={"training": train_metrics})

    old_eval = _evaluation(old.version_id, window)
    new_eval = _evaluation(new_id, window)
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
    """Retrains waiting or running, oldest first."""
    with session_scope() as s:
        return list(s.exec(select(RetrainRecord).where(
            col(RetrainRecord.status).in_(ACTIVE_STATUSES))
            .order_by(col(RetrainRecord.created_at), col(RetrainRecord.id))).all())


def history(limit: int = 100, version_id: str | None = None) -> list[RetrainRecord]:
    """Finished retrains (deployed, kept, failed, interrupted), newest first."""
    with session_scope() as s:
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
        "run_date": run_at if run_at.tzinfo else run_at.replace(tzinfo=timezone.utc)}
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
