"""Auto-retraining: monitor deployed models, retrain them, and deploy only what is better.

Modules: :mod:`~engine.retrain.policy` (thresholds and where they come from),
:mod:`~engine.retrain.tables` (settings, records, locks), :mod:`~engine.retrain.jobs`
(monitoring, retraining, the quality gate, background jobs). This file only re-exports
their public names; the scheduler's persisted job references ``engine.retrain:monitor_job``
and ``engine.retrain:retrain_job`` resolve here.
"""

from engine.retrain.jobs import (
    MONITOR_JOB_ID,
    MonitorStatus,
    RetrainBusy,
    check,
    enqueue,
    ensure_retrain_jobs,
    evaluate_triggers,
    history,
    monitor_job,
    monitor_job_info,
    quality_gate,
    queue,
    recover_interrupted,
    retrain_job,
    retrain_now,
    schedule_retrain,
    window_snapshot,
)
from engine.retrain.policy import (
    POLICY_ENV,
    RetrainPolicy,
    default_policy,
    get_policy,
    reset_policy,
    save_policy,
)
from engine.retrain.tables import RetrainRecord

__all__ = [
    "MONITOR_JOB_ID",
    "POLICY_ENV",
    "MonitorStatus",
    "RetrainBusy",
    "RetrainPolicy",
    "RetrainRecord",
    "check",
    "default_policy",
    "enqueue",
    "ensure_retrain_jobs",
    "evaluate_triggers",
    "get_policy",
    "history",
    "monitor_job",
    "monitor_job_info",
    "quality_gate",
    "queue",
    "recover_interrupted",
    "reset_policy",
    "retrain_job",
    "retrain_now",
    "save_policy",
    "schedule_retrain",
    "window_snapshot",
]
