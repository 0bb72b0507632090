"""import_file / load_dataset / catalogue: atomic writes, overwrite rule, windows."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from sqlmodel import Session, select

from engine import db
from engine.config import get_settings
from engine.errors import DataError, DatasetNotFound, ParameterError
from engine.market import (
    dataset_fingerprint,
    delete_dataset,
    get_dataset_info,
    import_file,
    list_datasets,
    load_dataset,
)
from engine.tables import Dataset
from tests.market._canon import assert_canonical


@pytest.fixture
def goog_csv(tmp_path, goog):
    p = tmp_path / "goog.csv"
    goog.write_csv(p)
    return p


def _rows() -> list[Dataset]:
    with db.session_scope() as s:
        return list(s.exec(select(Dataset).where(Dataset.source != "sample")).all())


def _files() -> list[str]:
    d = get_settings().datasets_dir
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_import_registers_row_and_file(goog_csv, goog):
    rep = import_file(goog_csv, "goog")
    assert rep.symbol == "GOOG" and rep.rows == goog.height
    assert _files() == ["GOOG.parquet"]
    info = get_dataset_info("Goog")
    assert (info.source, info.synthetic, info.n_rows, info.timeframe) == (
        "import", False, 2148, "1d"
    )
    assert info.start == datetime(2004, 8, 19) and info.report["rows"] == 2148
    df = load_dataset("goog")
    assert_canonical(df)
    assert df.equals(goog)


def test_import_over_existing_needs_overwrite(goog_csv, tmp_path, goog):
    import_file(goog_csv, "G")
    with pytest.raises(DataError, match=r"already exists.*--overwrite"):
        import_file(goog_csv, "g")
    short = tmp_path / "short.parquet"
    goog.head(100).write_parquet(short)
    rep = import_file(short, "G", overwrite=True)
    assert rep.rows == 100 and load_dataset("G").height == 100
    assert _files() == ["G.parquet"]  # no temp or backup files left
    assert get_dataset_info("G").n_rows == 100


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 33, "ÄPFEL"])
def test_invalid_symbols_are_rejected(goog_csv, bad):
    with pytest.raises(ParameterError, match="invalid symbol"):
        import_file(goog_csv, bad)


def test_symbols_with_special_characters(goog_csv):
    for sym in ("^GSPC", "BTC-USD", "BRK.B", "EURUSD=X", "a_b"):
        assert import_file(goog_csv, sym).symbol == sym.upper()
    assert load_dataset("brk.b").height == 2148


def test_db_failure_leaves_no_file_and_no_row(goog_csv, monkeypatch):
    def boom(self):
        raise RuntimeError("disk full")

    # a context, not monkeypatch.undo(): undo would also restore the lab's environment
    with monkeypatch.context() as m, pytest.raises(RuntimeError, match="disk full"):
        m.setattr(Session, "commit", boom)
        import_file(goog_csv, "GOOG")
    assert _files() == []
    assert _rows() == []


def test_failed_overwrite_keeps_the_old_dataset(goog_csv, tmp_path, goog, monkeypatch):
    import_file(goog_csv, "GOOG")
    before = load_dataset("GOOG")
    short = tmp_path / "short.csv"
    goog.head(10).write_csv(short)
    with monkeypatch.context() as m, pytest.raises(RuntimeError, match="^db$"):
        m.setattr(Session, "commit", lambda self: (_ for _ in ()).throw(RuntimeError("db")))
        import_file(short, "GOOG", overwrite=True)
    assert _files() == ["GOOG.parquet"]
    assert load_dataset("GOOG").equals(before)
    assert get_dataset_info("GOOG").n_rows == 2148


def test_validation_failure_leaves_nothing(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("date,open,high,low,close\n2024-01-02,-1,1,1,1\n")
    with pytest.raises(DataError, match="no valid rows"):
        import_file(p, "BAD")
    assert _files() == [] and _rows() == []


def test_samples_cannot_be_replaced_or_deleted(goog_csv):
    with pytest.raises(DataError, match="bundled sample"):
        import_file(goog_csv, "SYN-TREND", overwrite=True)
    with pytest.raises(DataError, match="bundled sample"):
        delete_dataset("SYN-TREND")


def test_list_and_delete(goog_csv):
    import_file(goog_csv, "GOOG")
    infos = {i.symbol: i for i in list_datasets()}
    assert {"GOOG", "SYN-TREND", "SYN-RANGE", "SYN-VOLATILE"} <= set(infos)
    assert infos["SYN-TREND"].synthetic and "Synthetic" in infos["SYN-TREND"].description
    assert not infos["GOOG"].synthetic
    delete_dataset("goog")
    assert "GOOG" not in {i.symbol for i in list_datasets()}
    assert _files() == []
    with pytest.raises(DatasetNotFound):
        delete_dataset("GOOG")


def test_unknown_symbol_lists_known_ones_and_how_to_import():
    with pytest.raises(DatasetNotFound,
                       match=r"no dataset 'NOPE' \(known: .*SYN-TREND.*data import"):
        load_dataset("nope")


def test_load_a_file_path_without_registering(goog_csv, goog):
    df = load_dataset(str(goog_csv))
    assert df.equals(goog)
    assert _rows() == []
    with pytest.raises(DatasetNotFound, match="file not found"):
        load_dataset(str(goog_csv.with_name("missing.csv")))


@pytest.mark.parametrize(("start", "end", "first", "last"), [
    ("2010-01-04", "2010-01-08", datetime(2010, 1, 4), datetime(2010, 1, 8)),
    (date(2010, 1, 4), date(2010, 1, 8), datetime(2010, 1, 4), datetime(2010, 1, 8)),
    (datetime(2010, 1, 4, 12), "2010-01-08T00:00:00", datetime(2010, 1, 5), datetime(2010, 1, 8)),
    ("2010-01-04T00:00:00", datetime(2010, 1, 7, 23), datetime(2010, 1, 4), datetime(2010, 1, 7)),
    (None, "2004-08-20", datetime(2004, 8, 19), datetime(2004, 8, 20)),
    ("2013-02-28", None, datetime(2013, 2, 28), datetime(2013, 3, 1)),
])
def test_window_includes_both_ends(goog_csv, start, end, first, last):
    import_file(goog_csv, "GOOG")
    df = load_dataset("GOOG", start=start, end=end)
    assert (df["timestamp"][0], df["timestamp"][-1]) == (first, last)


def test_window_errors(goog_csv):
    import_file(goog_csv, "GOOG")
    with pytest.raises(DataError, match=r"no bars in GOOG between 2020-01-01 "
                                        r".*covers 2004-08-19 to 2013-03-01"):
        load_dataset("GOOG", start="2020-01-01")
    with pytest.raises(ParameterError, match="not a date.*YYYY-MM-DD"):
        load_dataset("GOOG", start="2010-13-45")
    with pytest.raises(ParameterError, match="after end"):
        load_dataset("GOOG", start="2011-01-01", end="2010-01-01")


def test_samples_load_by_symbol_case_insensitively():
    df = load_dataset("syn-trend", start="2020-01-01", end="2020-12-31")
    assert_canonical(df)
    assert df["timestamp"][0] == datetime(2020, 1, 1) and df.height == 262


def test_fingerprint_is_stable_and_sensitive(goog):
    fp = dataset_fingerprint(goog)
    assert len(fp) == 16 and fp == dataset_fingerprint(goog.clone())
    nudged = goog.with_columns(pl.when(pl.int_range(pl.len()) == 500).then(pl.col("close") + 1e-9)
                               .otherwise(pl.col("close")).alias("close"))
    assert dataset_fingerprint(nudged) != fp
    assert dataset_fingerprint(goog.head(100)) != fp
