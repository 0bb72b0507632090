"""The live schedule: a job on the shared scheduler (persistent store) that downloads through
the faked HTTP layer of the download tests, then steps every live book."""

from __future__ import annotations

import hashlib
import json
import sys
import time

import pytest

from engine.errors import DownloadError
from tests.market._fake_yahoo import BARS, FakeYahoo, yfinance_sandbox  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")


def _book_on_fake(name: str = "live") -> None:
    from engine.market import download
    from engine.paper import BookSettings, add_sleeve, create_book

    download("FAKE", end="2024-01-03", session=FakeYahoo())  # two bars stored so far
    create_book(name, BookSettings(cash=1000))
    add_sleeve(name, "s", "strategy", ["FAKE"], {"strategy": "rsi"})


def _snapshot(data_dir) -> dict:
    """Every row of every lab table (but the scheduler's own) and every data file's hash."""
    from sqlalchemy import select
    from sqlmodel import SQLModel

    from engine import db

    rows = {}
    with db.session_scope() as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in ("job_runs", "apscheduler_jobs"):
                continue
            rows[table.name] = [json.dumps(list(r), default=str)
                                for r in s.execute(select(table)).all()]
    files = {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(data_dir.rglob("*")) if p.is_file() and ".db" not in p.name}
    return {"rows": rows, "files": files}


def _fake_downloads(monkeypatch, fake) -> None:
    """Route the job's downloads through ``fake`` (a scheduled job gets no session)."""
    import engine.market
    from engine.market import download as real

    monkeypatch.setattr(engine.market, "download",
                        lambda sym, **kw: real(sym, **{**kw, "session": fake}))


def _wait_run(job_id: str, timeout: float = 30.0):
    from engine.scheduler import last_runs

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        runs = [r for r in last_runs(job_id) if r.status != "running"]
        if runs:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_the_cli_puts_a_book_on_the_persistent_schedule_and_takes_it_off(
        cli, yfinance_sandbox):  # noqa: F811
    from engine import scheduler as sch
    from engine.paper.schedule import LIVE_FUNC, LIVE_JOB_ID, live_books

    _book_on_fake("a")
    _book_on_fake("b")
    on = cli("paper", "live", "b", "on", "--json")
    assert on["live"] is True and on["live_books"] == ["b"] and on["job"] == LIVE_JOB_ID
    assert cli("paper", "live", "a", "on", "--json")["live_books"] == ["a", "b"]
    assert cli("paper", "live", "a", "on", "--json")["live_books"] == ["a", "b"]  # no-op
    # the job is in the store, by import path, for the next process that starts a scheduler
    with sch.editing() as s:
        job = s.get_job(LIVE_JOB_ID)
        assert job.func_ref == LIVE_FUNC == "engine.paper.schedule:live_job"
        assert list(job.args) == [["a", "b"]]
        assert "day_of_week='mon-fri'" in str(job.trigger)
        assert "hour='22'" in str(job.trigger)
        assert job.misfire_grace_time == 12 * 3600 and job.coalesce is True
        assert live_books(s) == ["a", "b"]
        assert len(s.get_jobs()) == 1
    off = cli("paper", "live", "b", "off", "--json")
    assert off == {"book": "b", "live": False, "live_books": ["a"], "job": LIVE_JOB_ID,
                   "next_run_time": on["next_run_time"]}  # the job keeps its next run
    last = cli("paper", "live", "a", "off", "--json")
    assert last["live_books"] == [] and last["job"] is None
    with sch.editing() as s:
        assert s.get_job(LIVE_JOB_ID) is None  # the last book off removes the job


def test_an_unknown_book_or_state_is_refused_in_one_line(capsys):
    from engine.cli import main

    assert main(["paper", "live", "ghost", "on"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no paper book 'ghost'") and "paper create ghost" in err
    with pytest.raises(SystemExit):
        main(["paper", "live", "ghost", "maybe"])
    assert "'maybe' is not valid: give on or off" in capsys.readouterr().err


def test_the_scheduled_job_downloads_then_steps_every_live_book(
        monkeypatch, yfinance_sandbox):  # noqa: F811
    from engine import scheduler as sch
    from engine.market import load_dataset
    from engine.paper import book_status
    from engine.paper.schedule import LIVE_JOB_ID, set_live

    _book_on_fake("live")
    fake = FakeYahoo()
    _fake_downloads(monkeypatch, fake)
    s = sch.create_scheduler()
    s.start()
    try:
        assert set_live("live", True, scheduler=s) == ["live"]
        sch.run_now(LIVE_JOB_ID, scheduler=s)
        run = _wait_run(LIVE_JOB_ID)
    finally:
        s.shutdown(wait=False)
    assert run.status == "success", run.error
    stored = load_dataset("FAKE")
    # the fake serves 5 bars; the 4th is broken (high < close) and rejected on import
    assert stored.height == len(BARS) - 1
    assert run.result["downloaded"] == [{"symbol": "FAKE", "rows": 4}]
    assert run.result["books"][0]["book"] == "live"
    assert run.result["books"][0]["bars"] == 4 and run.result["missing"] == []
    assert book_status("live")["clock"] == "2024-01-08T00:00:00"
    assert any("/v8/finance/chart/FAKE" in u for u in fake.urls)  # through the HTTP layer


def test_without_network_the_job_records_the_error_and_changes_nothing(
        monkeypatch, isolated_lab, yfinance_sandbox):  # noqa: F811
    from engine import scheduler as sch
    from engine.paper.schedule import LIVE_JOB_ID, set_live

    _book_on_fake("live")
    _fake_downloads(monkeypatch, FakeYahoo(fail=True))
    before = _snapshot(isolated_lab)
    s = sch.create_scheduler()
    s.start()
    try:
        set_live("live", True, scheduler=s)
        sch.run_now(LIVE_JOB_ID, scheduler=s)
        run = _wait_run(LIVE_JOB_ID)
    finally:
        s.shutdown(wait=False)
    assert run.status == "error"
    assert "DownloadError: could not download FAKE" in run.error
    assert "check the network connection" in run.error
    assert _snapshot(isolated_lab) == before


def test_without_yfinance_the_job_says_so_and_changes_nothing(
        monkeypatch, isolated_lab, yfinance_sandbox):  # noqa: F811
    from engine.paper.schedule import live_job

    _book_on_fake("live")
    before = _snapshot(isolated_lab)
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import yfinance → ImportError
    with pytest.raises(DownloadError, match=r"yfinance is not installed: pip install"):
        live_job(["live"])
    assert _snapshot(isolated_lab) == before


def test_a_live_book_deleted_since_is_listed_as_missing(monkeypatch,
                                                        yfinance_sandbox):  # noqa: F811
    from engine.paper.schedule import live_job

    _book_on_fake("live")
    _fake_downloads(monkeypatch, FakeYahoo())
    out = live_job(["gone", "live"])
    assert out["missing"] == ["gone"]
    assert [b["book"] for b in out["books"]] == ["live"]
