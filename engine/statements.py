"""SQL statements as DBAPI text and parameter tuples, for writers of many small rows.

SQLAlchemy's statement machinery costs tens of microseconds a statement and a few a row;
an evolution writes a generation — dozens to hundreds of rows and four statements — every
few milliseconds. Here a statement is the dialect's SQL text (built once per table and
column list, then cached) and its parameter tuples, each value converted by its column's own
bind processor (datetimes as SQLite stores them, JSON documents), except
:class:`EncodedJSON` text, which goes as it is. They run on a SQLAlchemy
connection's DBAPI cursor (:func:`run_on`), inside its transaction. (A writer *process*
running these statements for the evolution was measured and dropped: on 2 cores sending a
generation and waiting for its reply cost about what writing it here does.)
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["EncodedJSON", "Statement", "delete_where", "execute_on", "insert_rows", "run_on",
           "select_where", "update_where"]

#: SQL text and one parameter tuple per execution (several: an ``executemany``).
Statement = tuple[str, list[tuple]]

_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}

class EncodedJSON(str):
    """A JSON document already encoded (``engine.db.encode_json``): a ``JSON`` column stores
    it as it is. Lets a writer that stores the same document many times (an evolution stores
    an individual's metrics in every generation it survives) encode it once."""

    __slots__ = ()


def _mark(dialect: Any) -> str:
    mark = _MARKS.get(dialect.paramstyle)
    if mark is None:  # pragma: no cover - every dialect the lab supports is listed
        raise ValueError(f"paramstyle {dialect.paramstyle!r} is not supported")
    return mark


@functools.lru_cache(maxsize=128)
def _processors(table: sa.Table, names: tuple[str, ...], dialect: Any
                ) -> list[tuple[int, Any]]:
    procs = [table.c[n].type._cached_bind_processor(dialect) for n in names]
    return [(j, p) for j, p in enumerate(procs) if p is not None]


def _convert(table: sa.Table, names: tuple[str, ...], dialect: Any,
             rows: Sequence[Sequence[Any]]) -> list[tuple]:
    """Parameter tuples of ``rows`` (values in ``names`` order), bind processors applied."""
    convert = _processors(table, names, dialect)
    if not convert:
        return [tuple(r) for r in rows]
    out = []
    memo: dict[int, tuple[object, object]] = {}  # a value shared by every row: convert once
    enc = EncodedJSON
    for r in rows:
        t = list(r)
        for j, proc in convert:
            v = t[j]
            if v is None or type(v) is enc:
                continue
            seen = memo.get(j)
            if seen is not None and seen[0] is v:
                t[j] = seen[1]
            else:
                t[j] = proc(v)
                memo[j] = (v, t[j])
        out.append(tuple(t))
    return out


@functools.lru_cache(maxsize=128)
def _insert_sql(table: sa.Table, names: tuple[str, ...], dialect: Any) -> str:
    q = dialect.identifier_preparer
    return (f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(n) for n in names)}) "
            f"VALUES ({', '.join([_mark(dialect)] * len(names))})")


def insert_rows(table: sa.Table, rows: Sequence[Mapping[str, Any]], dialect: Any
                ) -> Statement:
    """``INSERT`` of ``rows`` (dicts with the same keys)."""
    names = tuple(rows[0])
    get = operator.itemgetter(*names)
    values = [get(r) for r in rows] if len(names) > 1 else [(r[names[0]],) for r in rows]
    return _insert_sql(table, names, dialect), _convert(table, names, dialect, values)


@functools.lru_cache(maxsize=128)
def _update_sql(table: sa.Table, names: tuple[str, ...], key: str, dialect: Any) -> str:
    q, mark = dialect.identifier_preparer, _mark(dialect)
    sets = ", ".join(f"{q.quote(n)} = {mark}" for n in names)
    return f"UPDATE {q.format_table(table)} SET {sets} WHERE {q.quote(key)} = {mark}"


def update_where(table: sa.Table, values: Mapping[str, Any], key: str, key_value: Any,
                 dialect: Any) -> Statement:
    """``UPDATE table SET <values> WHERE key = key_value``."""
    names = (*values, key)
    row = (*values.values(), key_value)
    return _update_sql(table, tuple(values), key, dialect), _convert(table, names, dialect,
                                                                     [row])


def delete_where(table: sa.Table, key: str, key_value: Any, dialect: Any) -> Statement:
    """``DELETE FROM table WHERE key = key_value``."""
    q = dialect.identifier_preparer
    return (f"DELETE FROM {q.format_table(table)} WHERE {q.quote(key)} = {_mark(dialect)}",
            [(key_value,)])


def select_where(table: sa.Table, column: str, key: str, key_value: Any, dialect: Any
                 ) -> Statement:
    """``SELECT column FROM table WHERE key = key_value`` (read by :func:`run_on` last)."""
    q = dialect.identifier_preparer
    return (f"SELECT {q.quote(column)} FROM {q.format_table(table)} WHERE {q.quote(key)} = "
            f"{_mark(dialect)}", [(key_value,)])


def execute_on(cursor: Any, statements: Sequence[Statement], dbapi_error: type) -> Any:
    """Run ``statements`` in order on a DBAPI ``cursor``; the first column of the last
    one's first row, or None. A driver error (``dbapi_error``, the driver's base class) is
    raised as SQLAlchemy raises it (``sqlalchemy.exc.IntegrityError`` and so on, the
    driver's error as ``.orig``)."""
    sql, params = "", None
    try:
        for sql, params in statements:
            if len(params) > 1:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params[0])
        row = cursor.fetchone() if cursor.description is not None else None
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, dbapi_error) from exc
    return row[0] if row else None


def run_on(conn: Connection, statements: Sequence[Statement]) -> Any:
    """:func:`execute_on` the driver's cursor of ``conn``, inside its transaction.

    SQLAlchemy's execution context (about 60 µs a statement, a third of an evolution's
    commit) is skipped; the transaction, its begin and commit events, stay SQLAlchemy's.
    (:class:`engine.writer.Writer` also holds the connection and runs the transaction.)"""
    cursor = conn.connection.cursor()
    try:
        return execute_on(cursor, statements, conn.dialect.loaded_dbapi.Error)
    finally:
        cursor.close()
