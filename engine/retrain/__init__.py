"""Auto-retraining: monitor deployed models, retrain them, and deploy only what is better.

Modules: :mod:`~engine.retrain.policy` (thresholds: seed defaults ← environment ← values
saved on the Auto-Retrain page), :mod:`~engine.retrain.tables` (settings, records, locks),
:mod:`~engine.retrain.window` (the policy's newest window), :mod:`~engine.retrain.monitor`
(deployed models against their snapshots, the triggers), :mod:`~engine.retrain.gate` (the
quality gate), :mod:`~engine.retrain.locks` (one retrain per model at a time) and
:mod:`~engine.retrain.jobs` (retraining, queue, history, background jobs).

The dependency points one way: retrain → registry → neural. This file only re-exports the
public names; the scheduler's persisted job references ``engine.retrain:monitor_job`` and
``engine.retrain:retrain_job`` resolve here.
"""

from engine.retrain.gate import quality_gate
from engine.retrain.jobs import (
    MONITOR_JOB_ID,
    enqueue,
    ensure_retrain_jobs,
    history,
    monitor_job,
    monitor_job_info,
    queue,
    retrain_job,
    retrain_now,
    schedule_retrain,
)
from engine.retrain.locks import RetrainBusy, recover_interrupted
from engine.retrain.monitor import MonitorStatus, check, evaluate_triggers
from engine.retrain.policy import (
    POLICY_ENV,
    RetrainPolicy,
    default_policy,
    get_policy,
    reset_policy,
    save_policy,
)
from engine.retrain.tables import RetrainRecord
from engine.retrain.window import policy_window, window_snapshot

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
    "policy_window",
    "queue",
    "quality_gate",
    "recover_interrupted",
    "reset_policy",
    "retrain_job",
    "retrain_now",
    "save_policy",
    "schedule_retrain",
    "window_snapshot",
]
