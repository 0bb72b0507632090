"""Database engine, sessions and the one schema (SQLModel over SQLAlchemy, Alembic migrations).

:func:`init_db` owns the schema: every table of every module in :data:`TABLE_MODULES` (one
list, whatever else was imported), kept at the newest migration (:mod:`engine.migrations`)
— a new database is created and stamped at head, one made before migrations existed is
adopted, an older one upgraded. An already-current database costs one ``SELECT`` (neither
Alembic nor the table modules are imported for it).

SQLite — the embedded default — runs in WAL mode with a busy timeout and starts write
transactions (:func:`session_scope`) with ``BEGIN IMMEDIATE`` so a background writer
(evolution, training) and the UI never deadlock; reads (:func:`read_scope`, the schema
check) begin a plain deferred transaction, which takes no write lock, so a listing never
waits for another process's long write. Migrations run inside one ``BEGIN IMMEDIATE``
transaction, so two processes opening a new lab at once never both migrate. Any other
``DATABASE_URL`` (PostgreSQL) gets plain SQLAlchemy defaults, the same migrations, and an
advisory lock around them; no SQLite-only SQL is used anywhere else.
"""

from __future__ import annotations

import importlib
import json
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from engine import migrations
from engine.config import get_settings
from engine.errors import StratLabError
from engine.statements import EncodedJSON, insert_rows, run_on
from engine.wal import AUTOCHECKPOINT_PAGES, checkpointer

log = logging.getLogger(__name__)

#: Every module that defines table classes. A new table module is added here (and gets a
#: migration: ``alembic revision --autogenerate``); nothing appends to it at import time.
TABLE_MODULES: tuple[str, ...] = (
    "engine.tables",
    "engine.scheduler_tables",
    "engine.evolution.tables",
    "engine.llm.tables",
    "engine.neural.tables",
    "engine.registry.tables",
    "engine.retrain.tables",
    "engine.paper.tables",
    "engine.research.tables",
    "engine.walkforward.tables",
)

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_PG_MIGRATION_LOCK = 815_2026  # pg_advisory_xact_lock key: one migrating process at a time


#: How long a SQLite connection waits for another's lock before "database is locked".
BUSY_TIMEOUT_S = 15


def _wal_mode(cur: sqlite3.Cursor) -> None:
    """Switch the file to WAL. Several connections switching a new file at once can get
    SQLITE_BUSY at once, without SQLite calling the busy handler (it would deadlock: each
    holds the shared lock the other waits on), so the switch is retried here until the
    busy timeout — the failed statement has released its lock, so one of them gets through.
    A file already in WAL mode (every lab after its first connection) returns at once."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.002)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised via engine
    # pysqlite's own transaction handling is switched off so BEGIN IMMEDIATE below is ours.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    _wal_mode(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")  # see engine.wal
    cur.close()


#: Execution option of the connections :func:`read_scope` uses: begin without a write lock.
READ_ONLY = "stratlab_read_only"


def _sqlite_begin(conn) -> None:  # pragma: no cover - exercised via engine
    read = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def load_metadata() -> sa.MetaData:
    """``SQLModel.metadata`` with every table of :data:`TABLE_MODULES` registered."""
    for mod in TABLE_MODULES:
        importlib.import_module(mod)
    return SQLModel.metadata


def encode_json(obj: object) -> EncodedJSON:
    """``obj`` as strict JSON, by orjson: a non-finite float becomes ``null`` (as
    PostgreSQL's JSON requires), NumPy scalars their values."""
    return EncodedJSON(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode())


def encode_json_many(objs: Sequence[object]) -> list[EncodedJSON]:
    """``[encode_json(o) for o in objs]`` in one call (a writer of many rows encodes several
    documents per row: the per-call overhead was a quarter of it)."""
    dumps, opt = orjson.dumps, orjson.OPT_SERIALIZE_NUMPY
    return [EncodedJSON(dumps(o, option=opt).decode()) for o in objs]


def _json_serializer(obj: object) -> str:
    """The engines' JSON serializer: :class:`EncodedJSON` passes through, anything else is
    encoded as SQLAlchemy's default does."""
    return obj if type(obj) is EncodedJSON else json.dumps(obj)


def bulk_insert(target: Session | Connection, table: sa.Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` with one DBAPI
    ``executemany``, on the session's (or the connection's) transaction.

    The fast path for a writer of many small rows (an evolution's generation): SQLAlchemy's
    per-row statement machinery is skipped (:mod:`engine.statements`); each column's own
    bind processor still converts its values (datetimes on SQLite, JSON documents), except
    :class:`EncodedJSON`, which the database receives as the text it is. Same result as
    ``session.execute(insert(table), rows)``.
    """
    if not rows:
        return
    conn = target.connection() if isinstance(target, Session) else target
    run_on(conn, [insert_rows(table, rows, conn.dialect)])


def _sqlite_file(database: str | None, query: Mapping[str, Any]) -> Path | None:
    """The file a SQLite URL writes, or None when it writes none.

    In-memory databases have none. A URI filename (``file:/path?mode=ro&uri=true``) names
    its path after ``file:`` (and may carry its own ``?`` options); a read-only one writes
    nothing, so neither its folder is made nor its log checkpointed (taking the whole name
    as a path once left a ``file:`` folder in the working directory).
    """
    if not database or database == ":memory:":
        return None
    if str(query.get("uri", "")).lower() in ("true", "1") and database.startswith("file:"):
        path, _, options = database[len("file:"):].partition("?")
        if "mode=ro" in options or query.get("mode") == "ro" or path in ("", ":memory:"):
            return None
        return Path(path)
    return Path(database)


#: The SQLite file of each engine whose log the checkpointer copies.
_WAL_FILES: weakref.WeakKeyDictionary[Engine, Path] = weakref.WeakKeyDictionary()


def wal_written(eng: Engine) -> None:
    """A commit on ``eng`` added to its SQLite log: the checkpointer copies it later
    (:mod:`engine.wal`). SQLAlchemy's commit event calls this; so does a writer that commits
    on the driver's connection (:class:`engine.writer.Writer`). Nothing for other
    databases."""
    file = _WAL_FILES.get(eng)
    if file is not None:
        checkpointer().written(eng, file)


def make_engine(url: str) -> Engine:
    """A new engine for ``url`` with the lab's options (no schema work; see init_db)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = _sqlite_file(parsed.database, parsed.query)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        eng = create_engine(url, connect_args={"check_same_thread": False,
                                                 "timeout": BUSY_TIMEOUT_S},
                            json_serializer=_json_serializer)
        event.listen(eng, "connect", _sqlite_pragmas)
        event.listen(eng, "begin", _sqlite_begin)
        if file is not None:  # its log is checkpointed beside the writers (engine.wal)
            _WAL_FILES[eng] = file
            event.listen(eng, "commit", lambda _conn: wal_written(eng))
        return eng
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_serializer)


def schema_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is at; None when it has never been migrated."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def migrate(eng: Engine) -> None:
    """Bring the database behind ``eng`` to :data:`engine.migrations.HEAD`.

    An empty database gets every table of :data:`TABLE_MODULES` and is stamped at head;
    one made before migrations existed (tables but no ``alembic_version``) is adopted by the
    initial revision, which creates only the tables it lacks, and then upgraded like any
    other. Nothing depends on which table modules happened to be imported before.
    """
    with eng.execution_options(**{READ_ONLY: True}).connect() as conn:  # no write lock
        current = schema_revision(conn)
        legacy = current is None and bool(_tables(conn))
    if current == migrations.HEAD:
        return
    from alembic import command

    if legacy:
        log.info("database %s was made before schema migrations; adopting it at %s",
                 eng.url.render_as_string(hide_password=True), migrations.INITIAL)
    with eng.begin() as conn:
        if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already serialises
            conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
        cfg = migrations.alembic_config(conn)
        if current is not None and current not in migrations.known_revisions():
            raise StratLabError(
                f"the database {eng.url.render_as_string(hide_password=True)} is at schema "
                f"revision {current!r}, which this version of Strategy Lab does not know (it "
                f"knows up to {migrations.HEAD!r}): it was opened by a newer release; upgrade "
                "Strategy Lab, or point STRATLAB_DATA_DIR / DATABASE_URL at another lab")
        if current is None and not legacy and not _tables(conn):
            # Alembic's recipe for a new database: the models' schema, stamped at head
            # (tests/test_migrations.py proves the revisions build exactly this schema)
            load_metadata().create_all(conn)
            command.stamp(cfg, "head")
        else:
            command.upgrade(cfg, "head")


def _tables(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) - migrations.UNMANAGED_TABLES


def init_db(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: the lab's), its schema at the newest migration.

    Done once per URL per process; later calls return the cached engine at once.
    """
    url = url or get_settings().database_url
    with _lock:
        eng = _engines.get(url)
        if eng is not None:
            return eng
        eng = make_engine(url)
        try:
            migrate(eng)
        except BaseException:
            eng.dispose()
            raise
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


@contextmanager
def read_scope() -> Iterator[Session]:
    """A transaction for reads only: on SQLite a deferred ``BEGIN``, so it never waits for
    (or blocks) a writer's lock, and sees the last committed state. Nothing is committed;
    loaded objects stay usable after the block (they are detached, not expired)."""
    eng = get_engine().execution_options(**{READ_ONLY: True})
    with Session(eng, expire_on_commit=False, autoflush=False) as session:
        yield session


def dispose_all() -> None:
    """Close every engine (tests call this between isolated databases)."""
    with _lock:
        for eng in _engines.values():
            checkpointer().forget(eng)
            eng.dispose()
        _engines.clear()


def database_size_bytes() -> int | None:
    """Size of the SQLite file (with its WAL), or None for a server database."""
    parsed = make_url(get_settings().database_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    base = Path(parsed.database)
    return sum(p.stat().st_size for p in (base, Path(f"{base}-wal")) if p.exists())
