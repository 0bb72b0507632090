"""Database engine and sessions (SQLModel over SQLAlchemy).

``init_db`` is the one place where engine options, table creation and (future) migrations
live. SQLite — the embedded default — runs in WAL mode with a busy timeout and starts write
transactions with ``BEGIN IMMEDIATE`` so a background writer (evolution, training) and the
UI never deadlock. Any other ``DATABASE_URL`` (PostgreSQL) gets plain SQLAlchemy defaults; no
SQLite-only SQL is used anywhere else.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from engine.config import get_settings

#: Modules that define table classes; each later subpackage appends its own here.
TABLE_MODULES: list[str] = ["engine.tables", "engine.llm.tables", "engine.neural.tables"]
TABLE_MODULES += ["engine.registry.tables", "engine.retrain.tables"]

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised via engine
    # pysqlite's own transaction handling is switched off so BEGIN IMMEDIATE below is ours.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:  # pragma: no cover - exercised via engine
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_db(url: str | None = None) -> Engine:
    """Create (once per URL) the engine and every table; return the engine."""
    url = url or get_settings().database_url
    with _lock:
        eng = _engines.get(url)
        if eng is not None:
            return eng
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
            event.listen(eng, "connect", _sqlite_pragmas)
            event.listen(eng, "begin", _sqlite_begin)
        else:
            eng = create_engine(url, pool_pre_ping=True)
        for mod in TABLE_MODULES:
            importlib.import_module(mod)
        SQLModel.metadata.create_all(eng)
        _engines[url] = eng
        return eng


def get_engine() -> Engine:
    """The engine for the configured ``DATABASE_URL`` (created on first use)."""
    return init_db()


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error (nothing half-written)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def dispose_all() -> None:
    """Close every engine (tests call this between isolated databases)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


def database_size_bytes() -> int | None:
    """Size of the SQLite file (with its WAL), or None for a server database."""
    parsed = make_url(get_settings().database_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    base = Path(parsed.database)
    return sum(p.stat().st_size for p in (base, Path(f"{base}-wal")) if p.exists())
