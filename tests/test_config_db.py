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


def _run_fresh(code: str, data_dir: Path) -> str:
    """Run ``code`` in a new interpreter (nothing imported but what it imports itself)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "STRATLAB_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_init_db_alone_creates_every_table(tmp_path):
    """No table module imported first, yet every table of every module exists afterwards."""
    import json

    code = """
import json, sys
import sqlalchemy as sa
from engine import db
imported_first = sorted(m for m in db.TABLE_MODULES if m in sys.modules)
eng = db.init_db()
created = sorted(sa.inspect(eng).get_table_names())
expected = sorted(db.load_metadata().tables)
print(json.dumps({"created": created, "expected": expected, "imported": imported_first}))
"""
    res = json.loads(_run_fresh(code, tmp_path / "lab"))
    assert res["imported"] == []  # no table module was imported before init_db
    # the tables the old release created only when their module happened to be imported first
    assert {"job_runs", "evolution_runs", "evolution_individuals", "promoted_strategies",
            "model_versions", "retrain_records", "training_runs"} <= set(res["expected"])
    assert set(res["created"]) == set(res["expected"]) | {"alembic_version"}


def test_table_modules_do_not_register_themselves():
    """One explicit list in engine.db; no module appends to it at import time."""
    import engine.evolution.tables  # noqa: F401
    import engine.scheduler  # noqa: F401

    assert isinstance(db.TABLE_MODULES, tuple)
    assert "engine.scheduler_tables" in db.TABLE_MODULES
    assert "engine.evolution.tables" in db.TABLE_MODULES
    for path in (PROJECT_ROOT / "engine").rglob("*.py"):
        text = path.read_text()
        assert "TABLE_MODULES.append" not in text and "TABLE_MODULES +=" not in text, path


@pytest.mark.parametrize(("url", "made"), [
    ("sqlite:///{tmp}/plain/lab.db", "plain"),
    ("sqlite:///file:{tmp}/uri/lab.db?uri=true", "uri"),
    ("sqlite:///file:{tmp}/ro/lab.db?mode=ro&uri=true", None),
    ("sqlite:///file:{tmp}/ro2/lab.db?uri=true&mode=ro", None),
    ("sqlite://", None),
], ids=["path", "uri", "read-only uri", "read-only uri, mode last", "memory"])
def test_make_engine_creates_the_database_folder_only_where_sqlite_will_write(
        monkeypatch, tmp_path, url, made):
    # a URI filename's path starts after "file:"; taking the whole name as a path once left
    # a "file:/tmp/..." folder tree in the working directory
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    db.make_engine(url.format(tmp=tmp_path.as_posix())).dispose()
    assert list(work.iterdir()) == []
    made_dirs = sorted(p.name for p in tmp_path.iterdir() if p.name != "cwd")
    assert made_dirs == ([made] if made else [])
