"""The System page's seed metrics, from rows inserted here and numbers worked by hand."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine.errors import ParameterError

NOW = datetime(2026, 3, 10, 12, 0, 0)


def _h(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


@pytest.fixture
def rows():
    from engine.db import session_scope
    from engine.evolution.tables import EvolutionGeneration, EvolutionRun
    from engine.retrain.tables import RetrainRecord
    from engine.scheduler_tables import JobRun

    with session_scope() as s:
        run = EvolutionRun(name="r")
        s.add(run)
        s.flush()
        # all-islands rows (island -1) inside the last 24 h: 40 + 30 + 50 evaluations;
        # one 25 h old (outside); island 0/1 rows repeat the combined one (never counted)
        for g, (ago, ev) in enumerate([(1, 40), (5, 30), (23.5, 50), (25, 999)]):
            s.add(EvolutionGeneration(run_id=run.id, generation=g, island=-1, best=1.0,
                                      mean=0.5, worst=0.0, diversity=0.1, evaluations=ev,
                                      created_at=_h(ago)))
            for k in (0, 1):
                s.add(EvolutionGeneration(run_id=run.id, generation=g, island=k, best=1.0,
                                          mean=0.5, worst=0.0, diversity=0.1,
                                          evaluations=ev // 2, created_at=_h(ago)))
        # retrains finished in the window: deployed + kept + failed; one still queued, one
        # finished 30 h ago
        for status, fin in [("deployed", 2), ("kept", 10), ("failed", 20), ("queued", None),
                            ("deployed", 30)]:
            s.add(RetrainRecord(version_id="v", model_name="m", status=status,
                                created_at=_h(31), started_at=_h(31),
                                finished_at=_h(fin) if fin is not None else None))
        # job runs started in the window: durations 1, 2, 3, 10 s (success) and 4 s (error)
        for job, ago, dur, status in [("a", 1, 1, "success"), ("a", 2, 3, "success"),
                                      ("b", 3, 2, "success"), ("b", 4, 10, "success"),
                                      ("a", 5, 4, "error")]:
            start = _h(ago)
            s.add(JobRun(job_id=job, status=status, started_at=start,
                         finished_at=start + timedelta(seconds=dur)))
        s.add(JobRun(job_id="c", status="missed", started_at=_h(6), finished_at=_h(6)))
        s.add(JobRun(job_id="a", status="running", started_at=_h(0.1)))
        s.add(JobRun(job_id="old", status="success", started_at=_h(48),
                     finished_at=_h(48) + timedelta(seconds=500)))


def test_the_metrics_over_the_last_day_by_hand(rows):
    from engine.system_metrics import system_metrics

    m = system_metrics(24, now=NOW, started_at=NOW - timedelta(hours=3, seconds=30))
    assert m.strategies_evaluated == 40 + 30 + 50 == 120
    assert m.strategies_evaluated_per_hour == pytest.approx(120 / 24)  # 5.0
    assert m.generations == 3 and m.generations_per_day == pytest.approx(3.0)
    assert m.retrains == 3 and m.retrains_per_day == pytest.approx(3.0)
    assert m.scheduler_running and m.scheduler_uptime_s == 3 * 3600 + 30
    lat = m.job_latency  # durations 1, 2, 3, 4, 10
    assert lat.runs == 5 and lat.mean_s == pytest.approx(20 / 5)
    assert lat.median_s == 3.0 and lat.max_s == 10.0
    assert lat.p95_s == 10.0  # nearest rank: ceil(0.95 * 5) = 5th of 5
    assert (m.job_errors, m.job_missed, m.jobs_running) == (1, 1, 1)
    # per job: a = 1, 3, 4 s (one error); b = 2, 10 s
    assert [(j["job"], j["runs"], j["errors"], j["median_s"]) for j in m.jobs] == [
        ("a", 3, 1, 3.0), ("b", 2, 0, 6.0)]


def test_a_longer_window_divides_by_its_own_length(rows):
    from engine.system_metrics import system_metrics

    m = system_metrics(48, now=NOW, started_at=None)
    # generations: the four all-islands rows (1, 5, 23.5, 25 h ago) → 4 per 2 days
    assert m.generations == 4 and m.generations_per_day == pytest.approx(2.0)
    assert m.strategies_evaluated_per_hour == pytest.approx((120 + 999) / 48)
    assert m.retrains == 4 and m.retrains_per_day == pytest.approx(2.0)
    assert m.scheduler_running is False and m.scheduler_uptime_s is None
    # the run 48 h ago started exactly at the window's open edge (excluded: > since)
    assert m.job_latency.runs == 5


def test_no_records_gives_zeros_and_no_latency():
    from engine.system_metrics import system_metrics

    m = system_metrics(now=NOW)
    assert (m.strategies_evaluated_per_hour, m.generations_per_day, m.retrains_per_day) == (
        0.0, 0.0, 0.0)
    assert m.job_latency.runs == 0 and m.job_latency.median_s is None and m.jobs == []


def test_the_scheduler_uptime_is_this_processes_scheduler(rows):
    from engine import scheduler
    from engine.system_metrics import system_metrics

    assert system_metrics(now=NOW).scheduler_uptime_s is None  # none started here
    scheduler.get_scheduler()
    try:
        start = scheduler.started_at()
        m = system_metrics(now=start + timedelta(seconds=90))
        assert m.scheduler_running and m.scheduler_uptime_s == 90.0
    finally:
        scheduler.shutdown()
    assert scheduler.started_at() is None


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_a_bad_window_is_refused_with_the_fix(bad):
    from engine.system_metrics import system_metrics

    with pytest.raises(ParameterError, match=r"positive number of hours.*--hours 24"):
        system_metrics(bad)


def test_the_command_prints_the_metrics_as_json(capsys):
    from engine.cli import main
    from engine.db import session_scope
    from engine.scheduler_tables import JobRun
    from engine.tables import utcnow

    start = utcnow() - timedelta(hours=1)
    with session_scope() as s:
        s.add(JobRun(job_id="a", status="success", started_at=start,
                     finished_at=start + timedelta(seconds=2)))
    assert main(["system", "metrics", "--hours", "48", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["window_hours"] == 48.0 and d["scheduler_running"] is False
    assert d["scheduler_uptime_s"] is None  # the command line never starts a scheduler
    assert d["job_latency"] == {"runs": 1, "mean_s": 2.0, "median_s": 2.0, "p95_s": 2.0,
                                "max_s": 2.0}
    assert d["strategies_evaluated_per_hour"] == 0.0 and d["retrains_per_day"] == 0.0
    with pytest.raises(SystemExit) as exit_:
        main(["system", "metrics", "--hours", "0"])
    assert exit_.value.code == 2
    assert "--hours: 0 is not valid: must be a finite number in (0, 87,600]" in \
        capsys.readouterr().err
