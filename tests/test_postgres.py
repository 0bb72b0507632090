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


def test_evolution_registry_and_llm_tracking_on_postgres(postgres, goog, tmp_path, monkeypatch):
    """Every subsystem's tables and queries, not only the foundation's, run on PostgreSQL.

    The model files are fakes, so the registry's load check (deploy proves a version loads)
    goes through the registry tests' FakeNeural: what is under test here is the SQL."""
    from tests.registry.factories import FakeNeural

    FakeNeural(monkeypatch)
    from engine.evolution import (
        EvolutionConfig,
        create_run,
        evolve,
        get_run,
        history,
        population,
        promote,
    )
    from engine.llm.analyst import analyze, replay
    from engine.llm.costs import cost_summary
    from engine.llm.tracking import accuracy_report
    from engine.registry import deploy, get_version, list_versions, register_version, rollback

    path = tmp_path / "goog.csv"
    goog.write_csv(path)
    run_id = create_run(EvolutionConfig(symbols=[str(path)], population_size=6,
                                        generations=2, seed=5, elite_size=1,
                                        backend="inline", fitness_threshold=None))
    evolve(run_id)
    assert get_run(run_id).generations_done == 2 and len(history(run_id)) == 3
    best = max(population(run_id), key=lambda i: i.fitness)
    assert promote(run_id, best.uid, "pg-evolved", force=True).params == best.params

    f1, f2 = tmp_path / "m1.pt", tmp_path / "m2.pt"
    f1.write_bytes(b"weights-1")
    f2.write_bytes(b"weights-2")
    v1 = register_version(model_name="m", model_type="lstm", file_path=f1, metadata={},
                          performance_metrics={"accuracy": 0.5})
    v2 = register_version(model_name="m", model_type="lstm", file_path=f2, metadata={},
                          performance_metrics={"accuracy": 0.6},
                          parent_version=v1.version_id, relationship="retrained_from")
    assert {v.version_id for v in list_versions()} == {v1.version_id, v2.version_id}
    deploy(v1.version_id, "paper", snapshot={"accuracy": 0.5})
    deploy(v2.version_id, "paper", snapshot={"accuracy": 0.6})
    assert rollback("paper").version_id == v1.version_id
    assert get_version(v2.version_id).parent_version == v1.version_id

    out = analyze("SYN-TREND", provider="offline")
    assert out["provider"] == "offline" and out["decision"] is not None
    rep = replay("SYN-TREND", start="2023-01-02", end="2023-06-30", every=20,
                 provider="offline")
    assert rep["n_decisions"] >= 5
    assert cost_summary()["today_usd"] == 0.0
    assert "overall" in accuracy_report()


def test_postgres_goes_through_the_same_migrations(postgres):
    """An empty PostgreSQL schema is built by the migrations to exactly the models' schema;
    a database made before migrations (its absolute paths included) is adopted and rewritten,
    JSON payloads and naive timestamps round-tripping."""
    from datetime import datetime

    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine import migrations
    from engine.config import get_settings

    url = db.get_settings().database_url
    # the old release's schema with rows, as if made before migrations: 0001's tables only
    eng = db.make_engine(url)
    with eng.begin() as conn:
        command.upgrade(migrations.alembic_config(conn), migrations.INITIAL)
        conn.execute(sa.text("DROP TABLE alembic_version"))
        data_dir = get_settings().data_dir
        (data_dir / "datasets").mkdir(parents=True)
        (data_dir / "datasets" / "OLD.parquet").write_bytes(b"x")
        conn.execute(sa.text(
            "INSERT INTO datasets (symbol, source, synthetic, path, timeframe, n_rows, start, "
            "n_rejected, report, description, created_at) VALUES ('OLD', 'import', false, "
            ":p, '1d', 3, :t, 0, :r, '', :t)"),
            {"p": "/gone/lab/data/datasets/OLD.parquet", "t": datetime(2020, 1, 2, 3, 4, 5),
             "r": '{"rows": 3, "warnings": ["a"]}'})
    eng.dispose()

    eng = db.init_db()
    metadata = db.load_metadata()
    with eng.connect() as conn:
        assert db.schema_revision(conn) == migrations.HEAD
        row = conn.execute(sa.text("SELECT path, start, report FROM datasets")).one()
        mc = MigrationContext.configure(conn, opts={"compare_type": True,
                                                    "include_object": migrations.include_object})
        assert compare_metadata(mc, metadata) == []
        names = set(sa.inspect(conn).get_table_names())
    assert row.path == "datasets/OLD.parquet"
    assert row.start == datetime(2020, 1, 2, 3, 4, 5) and row.start.tzinfo is None
    assert row.report == {"rows": 3, "warnings": ["a"]}
    assert names == set(metadata.tables) | {"alembic_version"}
