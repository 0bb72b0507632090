"""engine.db.bulk_insert and EncodedJSON: the evolution's fast write path stores exactly what
SQLAlchemy's own insert stores (on SQLite here; tests/test_postgres.py runs an evolution on
PostgreSQL through the same path)."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
import sqlalchemy as sa

from engine import db
from engine.db import EncodedJSON, bulk_insert, encode_json, session_scope

meta = sa.MetaData()
T = sa.Table("bulk_probe", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("n", sa.Integer), sa.Column("x", sa.Float), sa.Column("ok", sa.Boolean),
             sa.Column("at", sa.DateTime), sa.Column("doc", sa.JSON), sa.Column("name", sa.String))


@pytest.fixture
def probe():
    eng = db.get_engine()
    meta.create_all(eng)
    yield
    meta.drop_all(eng)


def _rows():
    at = datetime(2024, 5, 6, 7, 8, 9, 123456)
    return [
        {"n": 1, "x": 0.5, "ok": True, "at": at, "doc": {"a": [1, 2.5, None]}, "name": "é"},
        {"n": 2, "x": -3.0, "ok": False, "at": at, "doc": encode_json({"b": {"c": 1}}),
         "name": None},
        {"n": 3, "x": None, "ok": None, "at": None, "doc": None, "name": "z"},
    ]


def _read():
    with session_scope() as s:
        return [tuple(r) for r in s.execute(sa.select(T.c.n, T.c.x, T.c.ok, T.c.at, T.c.doc,
                                                      T.c.name).order_by(T.c.n))]


def test_bulk_insert_stores_what_sqlalchemys_insert_stores(probe):
    with session_scope() as s:
        s.execute(sa.insert(T), [r | {"doc": r["doc"] if type(r["doc"]) is not EncodedJSON
                                      else {"b": {"c": 1}}} for r in _rows()])
    reference = _read()
    with session_scope() as s:
        s.execute(sa.delete(T))
    with session_scope() as s:
        bulk_insert(s, T, _rows())
    assert _read() == reference
    assert reference[1][4] == {"b": {"c": 1}}  # an EncodedJSON document reads back decoded
    assert reference[0][3] == datetime(2024, 5, 6, 7, 8, 9, 123456)


def test_bulk_insert_is_part_of_the_sessions_transaction(probe):
    with pytest.raises(RuntimeError, match="abort"):
        with session_scope() as s:
            bulk_insert(s, T, _rows())
            raise RuntimeError("abort")
    assert _read() == []


def test_encode_json_is_strict_json():
    import numpy as np

    # NaN and infinities become null (PostgreSQL's JSON has no NaN); NumPy scalars values
    assert encode_json({"a": math.nan, "b": -math.inf, "c": np.float64(1.25),
                        "d": np.int64(7), "e": [1, "x"]}) == \
        '{"a":null,"b":null,"c":1.25,"d":7,"e":[1,"x"]}'
    assert type(encode_json([])) is EncodedJSON


def test_update_delete_and_select_statements_match_sqlalchemys(probe):
    """engine.statements' UPDATE / DELETE / SELECT (what an evolution's commit runs) change
    and read exactly what SQLAlchemy's own statements do."""
    from engine.statements import delete_where, run_on, select_where, update_where

    later = datetime(2025, 1, 2, 3, 4, 5, 6)
    change = {"x": 9.75, "ok": False, "at": later, "doc": encode_json({"z": [3]}),
              "name": "new"}
    with session_scope() as s:
        bulk_insert(s, T, _rows())
        s.execute(sa.update(T).where(T.c.n == 2).values(change | {"doc": {"z": [3]}}))
        s.execute(sa.delete(T).where(T.c.n == 3))
    reference = _read()
    with session_scope() as s:
        s.execute(sa.delete(T))
    with db.get_engine().begin() as conn:
        bulk_insert(conn, T, _rows())
        name = run_on(conn, [update_where(T, change, "n", 2, conn.dialect),
                             delete_where(T, "n", 3, conn.dialect),
                             select_where(T, "name", "n", 2, conn.dialect)])
    assert name == "new"  # the last statement's value, read in the same transaction
    assert _read() == reference
    assert reference == [(1, 0.5, True, datetime(2024, 5, 6, 7, 8, 9, 123456),
                           {"a": [1, 2.5, None]}, "é"),
                          (2, 9.75, False, later, {"z": [3]}, "new")]


def test_statements_run_in_the_connections_transaction(probe):
    from engine.statements import insert_rows, run_on

    with pytest.raises(RuntimeError, match="abort"):
        with db.get_engine().begin() as conn:
            assert run_on(conn, [insert_rows(T, _rows(), conn.dialect)]) is None
            raise RuntimeError("abort")
    assert _read() == []


def test_a_driver_error_is_raised_as_sqlalchemys_and_the_transaction_rolls_back(probe):
    """run_on executes on the driver's cursor; a constraint violation still arrives as
    SQLAlchemy's IntegrityError (callers catch that), naming the statement, and nothing of
    the transaction is stored."""
    rows = [r | {"id": k + 1} for k, r in enumerate(_rows())]
    with pytest.raises(sa.exc.IntegrityError) as err:
        with session_scope() as s:
            bulk_insert(s, T, rows[:2])
            bulk_insert(s, T, rows[1:])  # id 2 again
    assert "INSERT INTO bulk_probe" in str(err.value)
    assert isinstance(err.value.orig, db.get_engine().dialect.loaded_dbapi.IntegrityError)
    assert _read() == []


def test_a_writer_holds_one_connection_and_commits_each_transaction(probe, monkeypatch):
    """engine.writer.Writer: every transaction is committed (another connection reads it),
    on the one connection it checked out, and the WAL checkpointer hears of each commit."""
    from engine.statements import insert_rows, select_where
    from engine.wal import checkpointer
    from engine.writer import Writer

    told = []
    monkeypatch.setattr(checkpointer(), "written", lambda eng, path: told.append(path.name))
    eng = db.get_engine()
    rows = _rows()
    with Writer() as w:
        for k, row in enumerate(rows):
            told.clear()
            value = w.transaction([insert_rows(T, [row], w.dialect),
                                   select_where(T, "n", "n", row["n"], w.dialect)])
            assert told == ["lab.db"]  # its log is to be checkpointed
            assert value == row["n"]  # the last statement's first column
            assert [r[0] for r in _read()] == [r["n"] for r in rows[:k + 1]]  # committed
            assert eng.pool.checkedout() == 1  # the writer's, held between transactions
    assert eng.pool.checkedout() == 0  # given back


def test_a_writers_failed_transaction_leaves_nothing_and_the_writer_goes_on(probe):
    from engine.statements import insert_rows
    from engine.writer import Writer

    rows = [r | {"id": k + 1} for k, r in enumerate(_rows())]
    with Writer() as w:
        with pytest.raises(sa.exc.IntegrityError, match="UNIQUE constraint failed"):
            w.transaction([insert_rows(T, rows[:2], w.dialect),
                           insert_rows(T, rows[1:2], w.dialect)])  # id 2 twice
        assert _read() == []  # the first insert was rolled back with it
        w.transaction([insert_rows(T, rows, w.dialect)])
    assert [r[0] for r in _read()] == [1, 2, 3]
