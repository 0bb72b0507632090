"""Reads take no write lock (issue 9): while another process holds a long write on the
SQLite database, listings and shows still answer.

Before, every session began with ``BEGIN IMMEDIATE``, so a read waited for the busy timeout
(15 s) behind the writer and then failed with "database is locked".
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import select

from engine import db
from engine.cli import main


@pytest.fixture
def writer_holding_the_lock(capsys):
    """A lab with one saved backtest, and a second connection in the middle of a write."""
    assert main(["backtest", "--data", "SYN-TREND", "--strategy", "sma_cross", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    lab = Path(os.environ["STRATLAB_DATA_DIR"]) / "lab.db"
    other = sqlite3.connect(lab, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # what a long evolution or training commit holds
    other.execute("CREATE TABLE in_flight (x INTEGER)")
    with pytest.raises(sqlite3.OperationalError, match="locked"):  # the lock is really held
        probe = sqlite3.connect(lab, isolation_level=None, timeout=0)
        probe.execute("BEGIN IMMEDIATE")
    yield run_id
    other.execute("ROLLBACK")
    other.close()


@pytest.mark.parametrize("argv", [
    ["history", "--json"],
    ["history", "{run}", "--json"],
    ["data", "list", "--json"],
    ["data", "show", "SYN-TREND", "--json"],
    ["models", "list", "--json"],
])
def test_a_read_answers_while_another_process_writes(capsys, writer_holding_the_lock, argv):
    db.dispose_all()  # a fresh process: its first connection checks the schema too
    code = main([a.replace("{run}", str(writer_holding_the_lock)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    json.loads(out)


def test_read_scope_sees_committed_rows_and_writes_nothing(writer_holding_the_lock):
    from engine.tables import BacktestRun

    with db.read_scope() as s:
        rows = s.exec(select(BacktestRun)).all()
    assert [r.id for r in rows] == [writer_holding_the_lock]
    assert rows[0].strategy == "sma_cross"  # usable after the block: detached, not expired
