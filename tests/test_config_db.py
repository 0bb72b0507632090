"""Settings from the environment and the database layer."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from engine import db
from engine.config import PROJECT_ROOT, Settings, get_settings, reset_settings
from engine.tables import BacktestRun


def test_defaults_live_in_the_project_data_dir(monkeypatch):
    monkeypatch.delenv("STRATLAB_DATA_DIR", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    s = Settings()
    assert s.data_dir == PROJECT_ROOT / "data"
    assert s.database_url == f"sqlite:///{(PROJECT_ROOT / 'data' / 'lab.db').as_posix()}"
    assert s.samples_dir == PROJECT_ROOT / "data" / "samples"


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("STRATLAB_DATA_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@localhost/lab")
    reset_settings()
    s = get_settings()
    assert s.data_dir == tmp_path / "x"
    assert s.database_url == "postgresql://u:p@localhost/lab"
    assert s.datasets_dir == tmp_path / "x" / "datasets"


def test_sqlite_is_created_on_first_use_in_wal_mode(isolated_lab):
    eng = db.get_engine()
    assert Path(isolated_lab / "lab.db").exists()
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
    assert {"datasets", "backtest_runs"} <= tables
    assert db.database_size_bytes() > 0


def test_session_scope_rolls_back_everything_on_error():
    with pytest.raises(RuntimeError):
        with db.session_scope() as s:
            s.add(BacktestRun(symbols="X", strategy="rsi"))
            s.flush()
            raise RuntimeError("boom")
    with db.session_scope() as s:
        assert s.exec(select(BacktestRun)).all() == []


def test_concurrent_writers_do_not_lock_each_other_out():
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(15):
                with db.session_scope() as s:
                    s.add(BacktestRun(symbols=f"T{k}", strategy="rsi", label=str(i)))
        except BaseException as exc:  # pragma: no cover - the assertion reports it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session_scope() as s:
        assert len(s.exec(select(BacktestRun)).all()) == 60
