"""The write-ahead log is checkpointed by engine.wal's thread, not inside a commit."""

from __future__ import annotations

import time

import sqlalchemy as sa

from engine import db
from engine.wal import AUTOCHECKPOINT_PAGES, checkpointer


def _wait(cond, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_connections_leave_checkpoints_to_the_thread(tmp_path):
    eng = db.make_engine(f"sqlite:///{(tmp_path / 'lab.db').as_posix()}")
    try:
        with eng.connect() as c:
            assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        eng.dispose()


def test_a_big_commit_is_copied_into_the_database_file_afterwards(tmp_path, monkeypatch):
    # 6 MB in one commit (about 1,500 pages of 4 KiB): past SQLite's default of 1,000, so
    # with the default the commit itself would copy the log into lab.db before returning
    monkeypatch.setattr(checkpointer(), "delay_s", 1.0)
    path = tmp_path / "lab.db"
    eng = db.make_engine(f"sqlite:///{path.as_posix()}")
    try:
        with eng.begin() as c:
            c.exec_driver_sql("CREATE TABLE t (b BLOB)")
        before = checkpointer().checkpoints
        with eng.begin() as c:
            c.execute(sa.text("INSERT INTO t VALUES (:b)"),
                      [{"b": bytes([i % 251]) * 3000} for i in range(2000)])
        assert path.stat().st_size < 1_000_000  # in the log only
        assert _wait(lambda: checkpointer().checkpoints > before)  # the thread ran one
        # and copied the log into lab.db (waited for too: the count may have moved for
        # another engine of this process checkpointed in the same round, just before ours)
        assert _wait(lambda: path.stat().st_size > 6_000_000), path.stat().st_size
        with eng.connect() as c:
            assert c.exec_driver_sql("SELECT count(*), sum(length(b)) FROM t").one() == (
                2000, 6_000_000)
    finally:
        eng.dispose()
