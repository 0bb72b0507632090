"""One database connection held for a burst of small transactions (an evolution's run).

An evolution commits a generation every few milliseconds. Through SQLAlchemy each commit
checked a connection out of the pool, began its transaction through the ``begin`` event
(``BEGIN IMMEDIATE`` on SQLite), committed and checked the connection back in: measured on
GOOG daily, 50 individuals a generation, 0.5 ms of the commit's 2.2 ms, before any row was
written (issue 11). A :class:`Writer` checks one connection out for the whole burst and runs
each transaction on the driver's cursor: ``BEGIN IMMEDIATE`` itself on SQLite (the same lock
the lab's sessions take, so writers still queue behind each other), the statements
(:mod:`engine.statements`), the driver's ``commit``. After a commit it tells the WAL
checkpointer (:mod:`engine.wal`), as SQLAlchemy's commit event does for the lab's other
writers. Any error rolls the transaction back — nothing is written half-way — and arrives
as SQLAlchemy raises it (``sqlalchemy.exc.OperationalError`` and so on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine

from engine.db import get_engine, wal_written
from engine.statements import Statement, execute_on

__all__ = ["Writer"]


class Writer:
    """Transactions of :mod:`engine.statements` on one pooled connection, held until
    :meth:`close` (also a context manager)."""

    def __init__(self, eng: Engine | None = None) -> None:
        self.engine = eng or get_engine()
        self.dialect = self.engine.dialect
        self._begin = "BEGIN IMMEDIATE" if self.dialect.name == "sqlite" else None
        self._raw: Any = None

    def transaction(self, statements: Sequence[Statement]) -> Any:
        """Run ``statements`` in one transaction and commit it; the first column of the
        last statement's first row, or None (as :func:`engine.statements.run_on`)."""
        if self._raw is None:
            self._raw = self.engine.raw_connection()
        raw, dbapi_error = self._raw, self.dialect.loaded_dbapi.Error
        cursor = raw.cursor()
        try:
            if self._begin is not None:  # pysqlite begins nothing itself (engine.db)
                cursor.execute(self._begin)
            value = execute_on(cursor, statements, dbapi_error)
            raw.commit()
        except BaseException:
            self._rollback()
            raise
        finally:
            cursor.close()
        wal_written(self.engine)
        return value

    def _rollback(self) -> None:
        try:
            self._raw.rollback()
        except Exception:  # noqa: BLE001 - a broken connection: never hand it out again
            self._raw.invalidate()
            self._raw = None

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self._raw is not None:
            raw, self._raw = self._raw, None
            raw.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
