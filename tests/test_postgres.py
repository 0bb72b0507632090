"""The same engine calls against PostgreSQL (no SQLite-only SQL anywhere).

Runs when STRATLAB_TEST_POSTGRES_URL points at a server (CI starts one); each test gets a
fresh schema so nothing leaks between runs.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from engine import db
from engine.config import reset_settings

PG_URL = os.environ.get("STRATLAB_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="set STRATLAB_TEST_POSTGRES_URL to run")


@pytest.fixture
def postgres(monkeypatch):
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    monkeypatch.setenv("DATABASE_URL", f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    reset_settings()
    db.dispose_all()
    yield
    db.dispose_all()
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_datasets_backtests_and_history_on_postgres(postgres, goog, tmp_path):
    from engine.backtest import run_backtest
    from engine.backtest.history import get_run, list_runs, save_run
    from engine.market import import_file, list_datasets, load_dataset

    assert db.get_engine().dialect.name == "postgresql"
    symbols = {d.symbol for d in list_datasets()}
    assert "SYN-TREND" in symbols  # samples registered on first use
    path = tmp_path / "goog.csv"
    goog.write_csv(path)
    report = import_file(path, "GOOG")
    assert report.rows == goog.height
    data = load_dataset("goog", end="2006-12-31")
    res = run_backtest(data, "sma_cross")
    run_id = save_run(res, "GOOG", start=data["timestamp"][0], end=data["timestamp"][-1])
    assert [r.id for r in list_runs()] == [run_id]
    row = get_run(run_id)
    assert row.metrics["n_trades"] == res.metrics["n_trades"]
    assert row.end == data["timestamp"][-1]
