"""System page (AppTest through app.py): scheduler state, jobs with their last error and
traceback, pause / resume / run now / remove, recent runs, database, GPU, LLM breakers."""

from __future__ import annotations

import time
from datetime import UTC

from engine import scheduler
from tests.pages.conftest import assert_clean, open_page, table


def broken_job() -> None:
    """A scheduled job that fails at once (importable as ``test_system_page:broken_job``).

    No delay: engine.scheduler orders a job's submission and outcome events under one lock,
    so even an outcome reported before its submission leaves no phantom "running" record
    (asserted below).
    """
    raise RuntimeError("the nightly job broke on purpose")


def _wait(pred, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def _failing_job_id() -> str:
    return f"{broken_job.__module__}:broken_job"


def test_renders_with_state_database_gpu_and_breakers(app):
    at = open_page(app, "system")
    assert_clean(at)
    assert [t.value for t in at.title] == ["System"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Scheduler"] == "running"
    assert "Jobs" in metrics and "Failed runs" in metrics
    code = "\n".join(c.value for c in at.code)
    assert "sqlite:///" in code and "lab.db" in code
    assert metrics["Size"].endswith("B")
    gpu = [i.value for i in at.info] + [s.value for s in at.success]
    assert any("CPU only" in g or " GB" in g for g in gpu), gpu
    assert any("circuit" in s.value.lower() for s in at.subheader)


def test_failing_job_shows_its_traceback_and_pause_resume_change_the_job(app):
    at = open_page(app, "system")  # app.py started the scheduler on this test's database
    from datetime import datetime

    scheduler.schedule(_failing_job_id(), job_id="nightly-broken", trigger="interval",
                       hours=6, name="nightly broken job",
                       next_run_time=datetime.now(UTC))
    assert _wait(lambda: any(r.job_id == "nightly-broken" and r.status == "error"
                             for r in scheduler.last_runs()))
    # the instant failure is one error record, never an error plus a stale "running" one
    assert [r.status for r in scheduler.last_runs("nightly-broken")] == ["error"]
    at.run()
    assert_clean_but_job_error(at)
    body = "\n".join(m.value for m in at.markdown)
    assert "nightly broken job" in body and "`nightly-broken`" in body
    errors = [e.value for e in at.error]
    assert any("RuntimeError: the nightly job broke on purpose" in e for e in errors)
    traces = "\n".join(c.value for c in at.code)
    assert "Traceback (most recent call last)" in traces and "broken_job" in traces
    runs = table(at, "Job")
    assert "nightly-broken" in set(runs["Job"]) and "error" in set(runs["Status"])
    assert {m.label: m.value for m in at.metric}["Failed runs"] != "0"

    # pause → the job has no next run time; resume → it has one again
    at.button(key="sys_pause_nightly-broken").click().run()
    assert_clean_but_job_error(at)
    job = scheduler.get_scheduler().get_job("nightly-broken")
    assert job.next_run_time is None
    assert any("paused" in s.value for s in at.success)
    assert any(":orange-badge[paused]" in m.value for m in at.markdown)
    at.button(key="sys_resume_nightly-broken").click().run()
    job = scheduler.get_scheduler().get_job("nightly-broken")
    assert job.next_run_time is not None

    # run now → a second failed run is recorded; remove → the job is gone
    def failures() -> int:
        return sum(r.status == "error" for r in scheduler.last_runs("nightly-broken"))

    before = failures()
    at.button(key="sys_run_nightly-broken").click().run()
    assert_clean_but_job_error(at)
    assert _wait(lambda: failures() > before)
    assert [r.status for r in scheduler.last_runs("nightly-broken")] == ["error", "error"]
    at.button(key="sys_remove_nightly-broken").click().run()
    assert scheduler.get_scheduler().get_job("nightly-broken") is None
    assert not any("**nightly broken job**" in m.value for m in at.markdown)
    # its last run stays visible among the recent one-off jobs, with the traceback
    assert any(m.value.startswith("`nightly-broken` :red-badge[error]") for m in at.markdown)


def test_running_evolution_is_listed(app):
    from engine import evolution as ev
    from engine.evolution import store

    run_id = ev.create_run(ev.EvolutionConfig(symbols=["SYN-TREND"], population_size=8,
                                              generations=2, elite_size=1, backend="inline"),
                           name="listed-run")
    store.claim(run_id, 2)  # this (live) process owns it: it shows as running
    at = open_page(app, "system")
    assert_clean(at)
    evo = table(at, "Generation")
    assert list(evo["Run"]) == [run_id] and list(evo["Status"]) == ["running"]
    assert any(f"Run #{run_id} · listed-run" in p.proto.text for p in at.progress)
    store.finish(run_id, "completed")


def test_database_url_never_shows_a_password():
    from ui.system import redacted_url

    shown = redacted_url("postgresql+psycopg://lab:s3cret-pw@db.example:5432/lab")
    assert "s3cret-pw" not in shown and "***" in shown and "db.example:5432/lab" in shown


def assert_clean_but_job_error(at) -> None:
    """No exception; the only error lines are the failed job's."""
    assert not at.exception, [e.value for e in at.exception]
    others = [e.value for e in at.error if "Last run failed" not in e.value]
    assert not others, others


def test_pausing_a_job_keeps_its_place_and_triggers_read_as_words(app):
    # defect 17: jobs came in next-run order, so a paused job (no next run) jumped to the
    # bottom and the next click landed on another job
    from datetime import datetime, timedelta

    at = open_page(app, "system")
    soon = datetime.now(UTC) + timedelta(hours=1)
    for jid, name, hours in (("aa-job", "aa first job", 1), ("bb-job", "bb second job", 2)):
        scheduler.schedule(_failing_job_id(), job_id=jid, trigger="interval", hours=hours,
                           name=name, next_run_time=soon + timedelta(hours=hours))

    def order(at) -> list[str]:
        names = [m.value for m in at.markdown if m.value.startswith("**")]
        return [n for n in names if "aa first job" in n or "bb second job" in n]

    at.run()
    before = order(at)
    assert [n.split("**")[1] for n in before] == ["aa first job", "bb second job"]
    at.button(key="sys_pause_aa-job").click().run()
    after = order(at)
    assert [n.split("**")[1] for n in after] == ["aa first job", "bb second job"]
    assert ":orange-badge[paused]" in after[0]
    captions = "\n".join(c.value for c in at.caption)
    assert "every 2 hours" in captions and "interval[" not in captions
    for jid in ("aa-job", "bb-job"):
        scheduler.remove_job(jid)


def test_trigger_words():
    from ui.system import trigger_words

    assert trigger_words("interval[1:00:00]") == "every 1 hour"
    assert trigger_words("interval[0:05:00]") == "every 5 minutes"
    assert trigger_words("interval[2 days, 1:30:00]") == "every 2 days 1 hour 30 minutes"
    assert trigger_words("date[2026-01-01 00:00:00 UTC]") == "once, at 2026-01-01 00:00:00 UTC"
