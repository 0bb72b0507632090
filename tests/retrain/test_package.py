"""The retrain package's public surface (what pages, the CLI and the scheduler import)."""

from __future__ import annotations


def test_retrain_public_surface_is_pinned():
    import engine.retrain as retrain

    assert sorted(retrain.__all__) == sorted([
        "MONITOR_JOB_ID", "POLICY_ENV", "MonitorStatus", "RetrainBusy", "RetrainPolicy",
        "RetrainRecord", "check", "default_policy", "enqueue", "ensure_retrain_jobs",
        "evaluate_triggers", "get_policy", "history", "monitor_job", "monitor_job_info",
        "policy_window", "queue", "quality_gate", "recover_interrupted", "reset_policy",
        "retrain_job", "retrain_now", "save_policy", "schedule_retrain", "window_snapshot"])
    assert all(hasattr(retrain, name) for name in retrain.__all__)


def test_persisted_scheduler_references_still_resolve():
    """Users' job stores hold 'engine.retrain:monitor_job' / ':retrain_job' (APScheduler's
    'module:function' references); they must keep resolving after the package split."""
    from apscheduler.util import ref_to_obj

    from engine.retrain import jobs

    assert ref_to_obj(jobs.MONITOR_FUNC) is jobs.monitor_job
    assert ref_to_obj(jobs.RETRAIN_FUNC) is jobs.retrain_job
    assert (jobs.MONITOR_FUNC, jobs.RETRAIN_FUNC) == ("engine.retrain:monitor_job",
                                                       "engine.retrain:retrain_job")
