"""Schema migrations: a lab made by the release before migrations opens with every row kept,
its absolute paths made relative, and still works after being moved to another folder.

``tests/fixtures/lab_v0/`` was made by ``tests/fixtures/make_lab_v0.py`` run against release
669aefb with ``STRATLAB_DATA_DIR=/tmp/labfix/data``: every path it stored is absolute and
points at /tmp/labfix/data (and the samples at that checkout's data/samples) — folders that
do not exist where these tests run. Copying it into the test's own data directory is exactly
"a lab copied elsewhere before upgrading".
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import db, migrations

FIXTURE = Path(__file__).parent / "fixtures" / "lab_v0"

#: What make_lab_v0.py printed when it made the fixture (independent of the code under test).
ROW_COUNTS = {
    "ai_decisions": 1, "ai_performance_metrics": 1, "apscheduler_jobs": 1, "backtest_runs": 1,
    "datasets": 4, "evolution_checkpoints": 1, "evolution_generations": 3,
    "evolution_individuals": 18, "evolution_runs": 1, "job_runs": 1, "llm_budget_lock": 1,
    "llm_calls": 2, "llm_response_cache": 1, "model_deployments": 1, "model_lineage": 1,
    "model_versions": 2, "promoted_strategies": 1, "retrain_locks": 1, "retrain_records": 1,
    "retrain_settings": 8, "training_epochs": 2, "training_runs": 1,
}
OLD_DATA_DIR = "/tmp/labfix/data"
#: Columns the path migration rewrites; every other value must be untouched.
REWRITTEN = {("datasets", "path"), ("model_versions", "file_path"), ("training_runs", "result")}


def _dump(path: Path) -> dict[str, list[dict]]:
    """Every row of every table, as the SQLite file holds it (no ORM, no new code)."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: [dict(r) for r in con.execute(f'SELECT * FROM "{n}" ORDER BY rowid')]
                for n in names}
    finally:
        con.close()


@pytest.fixture
def old_lab(isolated_lab) -> Path:
    """The fixture lab copied into this test's (empty) data directory."""
    assert not isolated_lab.exists()
    shutil.copytree(FIXTURE, isolated_lab)
    return isolated_lab


def test_the_fixture_is_what_the_old_release_stored():
    rows = _dump(FIXTURE / "lab.db")
    assert {n: len(r) for n, r in rows.items()} == ROW_COUNTS
    assert "alembic_version" not in rows
    paths = {r["symbol"]: r["path"] for r in rows["datasets"]}
    assert paths["GOOG"] == f"{OLD_DATA_DIR}/datasets/GOOG.parquet"
    assert all(Path(p).is_absolute() for p in paths.values())
    assert all(r["file_path"].startswith(f"{OLD_DATA_DIR}/models/")
               for r in rows["model_versions"])


def test_an_old_lab_opens_with_every_row_intact(old_lab):
    before = _dump(old_lab / "lab.db")
    eng = db.init_db()
    after = _dump(old_lab / "lab.db")

    assert after.pop("alembic_version") == [{"version_num": migrations.HEAD}]
    assert {n: len(after[n]) for n in ROW_COUNTS} == ROW_COUNTS
    added = set(after) - set(ROW_COUNTS)  # tables later revisions created: new and empty
    assert all(after[n] == [] for n in added) and added <= set(db.load_metadata().tables)
    for table, rows in before.items():
        for old, new in zip(rows, after[table], strict=True):
            kept = {c: v for c, v in old.items() if (table, c) not in REWRITTEN}
            assert {c: new[c] for c in kept} == kept, table

    # the rewritten columns: exactly the relative forms of what was stored
    paths = {r["symbol"]: r["path"] for r in after["datasets"]}
    assert paths == {"GOOG": "datasets/GOOG.parquet", "SYN-TREND": "SYN-TREND.parquet",
                     "SYN-RANGE": "SYN-RANGE.parquet", "SYN-VOLATILE": "SYN-VOLATILE.parquet"}
    for old, new in zip(before["model_versions"], after["model_versions"], strict=True):
        assert new["file_path"] == old["file_path"].removeprefix(f"{OLD_DATA_DIR}/")
        assert new["file_path"].startswith("models/") and new["file_path"].endswith(".pt")
    old_res = json.loads(before["training_runs"][0]["result"])
    new_res = json.loads(after["training_runs"][0]["result"])
    assert new_res["file_path"] == old_res["file_path"].removeprefix(f"{OLD_DATA_DIR}/")
    assert {k: v for k, v in new_res.items() if k != "file_path"} == \
        {k: v for k, v in old_res.items() if k != "file_path"}

    # the new code's classes read every row: JSON payloads and naive datetimes round-trip
    from sqlmodel import Session, select

    from engine.llm.tables import LLMResponseCache
    from engine.tables import BacktestRun, Dataset

    metadata = db.load_metadata()
    with eng.connect() as conn:
        for name, table in metadata.tables.items():
            assert len(conn.execute(sa.select(table)).all()) == ROW_COUNTS.get(name, 0), name
    with Session(eng) as s:
        goog = s.exec(select(Dataset).where(Dataset.symbol == "GOOG")).one()
        assert (goog.n_rows, goog.start, goog.end) == (700, datetime(2004, 8, 19),
                                                       datetime(2007, 5, 31))
        assert goog.start.tzinfo is None
        run = s.exec(select(BacktestRun)).one()
        assert run.metrics["n_trades"] == 11 and run.label == "fixture"
        assert run.settings["cash"] == 10000.0
        cache = s.exec(select(LLMResponseCache)).one()
        assert cache.payload == {"decision": "BUY", "confidence": 0.7,
                                 "nested": {"levels": [1.5, 2.5]}}


def test_version_cards_are_rewritten_too(old_lab):
    db.init_db()
    cards = sorted((old_lab / "model_versions").glob("*.neural.json"))
    assert len(cards) == 2
    for card in cards:
        stored = json.loads(card.read_text())["file_path"]
        assert stored.startswith("models/") and (old_lab / stored).is_file()


def test_a_moved_lab_still_backtests_verifies_and_loads_its_models(old_lab):
    assert not Path(OLD_DATA_DIR, "datasets", "GOOG.parquet").is_relative_to(old_lab)
    db.init_db()
    from engine.backtest import run_backtest
    from engine.market import load_dataset
    from engine.registry import list_versions, load_version, verify_file

    data = load_dataset("GOOG")
    assert data.height == 700
    res = run_backtest(data, "sma_cross")
    # the same bars and strategy as the stored run, so the same result as then
    assert res.metrics["n_trades"] == 11
    assert res.metrics["total_return_pct"] == pytest.approx(162.4191, abs=1e-6)
    assert load_dataset("SYN-TREND").height == 2608  # a bundled sample, from today's checkout

    versions = list_versions()
    assert len(versions) == 2
    for v in versions:
        path = Path(verify_file(v.version_id))
        assert path.is_relative_to(old_lab) and path.is_file()
        loaded = load_version(v.version_id)  # hash-checked, weights only
        assert loaded.config.symbol == "GOOG" and loaded.config.hidden_size == 8


def _schema(conn) -> dict:
    insp = sa.inspect(conn)
    return {t: ({c["name"]: (str(c["type"]), c["nullable"]) for c in insp.get_columns(t)},
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                       for i in insp.get_indexes(t)),
                sorted((tuple(f["constrained_columns"]), f["referred_table"])
                       for f in insp.get_foreign_keys(t)),
                sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)))
            for t in insp.get_table_names()}


def test_init_db_on_an_empty_directory_builds_the_models_schema(isolated_lab, tmp_path):
    """A new lab gets the models' schema stamped at head — the very schema the revisions
    build step by step from nothing (so either way a database ends up the same)."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    eng = db.init_db()
    metadata = db.load_metadata()
    with eng.connect() as conn:
        assert db.schema_revision(conn) == migrations.HEAD
        new_lab = _schema(conn)
    assert set(new_lab) == set(metadata.tables) | {"alembic_version"}

    stepwise = db.make_engine(f"sqlite:///{tmp_path / 'stepwise.db'}")
    with stepwise.begin() as conn:
        command.upgrade(migrations.alembic_config(conn), "head")
    with stepwise.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True,
                                                    "include_object": migrations.include_object})
        assert compare_metadata(mc, metadata) == []
        assert db.schema_revision(conn) == migrations.HEAD
        assert _schema(conn) == new_lab
    stepwise.dispose()


def test_upgrading_twice_changes_nothing(old_lab):
    from alembic import command

    db.init_db()
    once = _dump(old_lab / "lab.db")
    db.dispose_all()
    db.init_db()  # the fast path: already at head
    eng = db.make_engine(db.get_settings().database_url)
    with eng.begin() as conn:  # and Alembic's own upgrade, run again on purpose
        command.upgrade(migrations.alembic_config(conn), "head")
    eng.dispose()
    assert _dump(old_lab / "lab.db") == once


def test_an_old_lab_missing_tables_gets_them(old_lab):
    """The old release made job_runs and the evolution tables only when their modules were
    imported first, so real old labs lack some; adoption creates what is missing."""
    con = sqlite3.connect(old_lab / "lab.db")
    for t in ("job_runs", "evolution_checkpoints", "evolution_individuals",
              "evolution_generations", "promoted_strategies", "evolution_runs"):
        con.execute(f"DROP TABLE {t}")
    con.commit()
    con.close()
    eng = db.init_db()
    with eng.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        assert conn.execute(sa.text("SELECT COUNT(*) FROM datasets")).scalar() == 4
        assert conn.execute(sa.text("SELECT COUNT(*) FROM job_runs")).scalar() == 0
    assert set(db.load_metadata().tables) <= names


@pytest.mark.parametrize("attempt", range(20))
def test_processes_opening_a_new_lab_at_once_migrate_it_once(tmp_path, attempt):
    """Four engines (as four processes would) create the same new database concurrently:
    BEGIN IMMEDIATE lets one build it; the others find it at head. Their first connections
    also switch the new file to WAL at once, where SQLite answers "database is locked"
    without waiting (engine.db._wal_mode retries): before that retry about one attempt in
    ten failed, hence twenty attempts."""
    import threading

    url = f"sqlite:///{tmp_path / 'race.db'}"
    engines = [db.make_engine(url) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def open_lab(eng) -> None:
        try:
            start.wait()
            db.migrate(eng)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_lab, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with engines[0].connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert [v[0] for v in versions] == [migrations.HEAD]
    for e in engines:
        e.dispose()


def test_a_database_from_a_newer_release_is_refused_with_the_fix(isolated_lab):
    from engine.errors import StratLabError

    db.init_db()
    with db.get_engine().begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_future'"))
    db.dispose_all()
    with pytest.raises(StratLabError, match=r"revision '0099_future'.*newer release; "
                                            r"upgrade Strategy Lab"):
        db.init_db()


def test_head_constant_is_the_head_of_the_scripts():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config())
    assert script.get_heads() == [migrations.HEAD]
    assert script.get_base() == migrations.INITIAL


# ----------------------------------------------------------------- the path rules, one by one

def _rules():
    import importlib

    return importlib.import_module("engine.migrations.versions.0002_relative_paths")


def test_path_rules(tmp_path, caplog):
    rules = _rules()
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / "m.pt").write_bytes(b"x")
    # inside the current data directory: relative (whether or not the file exists)
    assert rules.relative_path(str(data / "datasets" / "A.parquet"), data,
                               what="t") == "datasets/A.parquet"
    # a folder that no longer exists: re-rooted from the last data folder, if the file is here
    assert rules.relative_path("/gone/lab/data/models/m.pt", data, what="t") == "models/m.pt"
    assert rules.relative_path(r"C:\Users\me\lab\data\models\m.pt", data,
                               what="t") == "models/m.pt"
    # already relative: unchanged
    assert rules.relative_path("models/m.pt", data, what="t") == "models/m.pt"
    # cannot be re-rooted: unchanged, with a warning naming it
    with caplog.at_level(logging.WARNING, logger="engine.migrations"):
        assert rules.relative_path("/gone/models/x.pt", data, what="model version v9") == \
            "/gone/models/x.pt"
        assert rules.relative_path("/elsewhere/file.pt", data, what="t") == "/elsewhere/file.pt"
    assert "model version v9: cannot re-root /gone/models/x.pt" in caplog.text
    # samples: the file name, relative to the samples directory
    samples = tmp_path / "samples"
    assert rules.sample_path("/old/checkout/data/samples/SP500.parquet", samples) == \
        "SP500.parquet"
    assert rules.sample_path(str(samples / "SP500.parquet"), samples) == "SP500.parquet"
