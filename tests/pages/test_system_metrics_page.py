"""The System page's seed metrics section (AppTest through app.py)."""

from __future__ import annotations

from datetime import timedelta

from tests.pages.conftest import assert_clean, open_page


def test_the_seed_metrics_are_shown_with_the_job_latency(app):
    from engine.db import session_scope
    from engine.scheduler_tables import JobRun
    from engine.tables import utcnow

    start = utcnow() - timedelta(hours=1)
    with session_scope() as s:  # two runs of 2 s and 4 s: median 3 s
        for dur in (2, 4):
            s.add(JobRun(job_id="seeded", status="success", started_at=start,
                         finished_at=start + timedelta(seconds=dur)))
    at = open_page(app, "system")
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Job latency (median)"] == "3.00 s"
    assert metrics["Strategies evaluated / hour"] == "0.0"
    assert metrics["Retrains / day"] == "0.0"
    assert metrics["Scheduler uptime"].endswith(" s")  # app.py started it just now
    assert any("System metrics (last 24 h)" in h.value for h in at.subheader)
