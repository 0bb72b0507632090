"""A lab folder survives being moved: dataset rows store paths relative to their base.

Imports and downloads are stored relative to the data directory, bundled samples relative to
the samples directory; an absolute path written by an older release still resolves.
"""

from __future__ import annotations

import shutil

import pytest
from sqlmodel import select

from engine import db
from engine.backtest import run_backtest
from engine.config import get_settings, reset_settings
from engine.errors import DataError
from engine.market import get_dataset_info, import_file, list_datasets, load_dataset
from engine.tables import Dataset


def stored_path(symbol: str) -> str:
    with db.session_scope() as s:
        return s.exec(select(Dataset.path).where(Dataset.symbol == symbol)).one()


def set_path(symbol: str, path: str) -> None:
    with db.session_scope() as s:
        row = s.exec(select(Dataset).where(Dataset.symbol == symbol)).one()
        row.path = path
        s.add(row)


def move_lab(monkeypatch, old, new) -> None:
    """Copy the data directory elsewhere, delete the original and point the lab at the copy."""
    db.dispose_all()
    shutil.copytree(old, new)
    shutil.rmtree(old)
    monkeypatch.setenv("STRATLAB_DATA_DIR", str(new))
    reset_settings()
    db.dispose_all()


@pytest.fixture
def goog_csv(tmp_path, goog):
    p = tmp_path / "goog.csv"
    goog.write_csv(p)
    return p


def test_an_imported_dataset_loads_and_backtests_after_the_lab_moves(
        goog_csv, goog, tmp_path, monkeypatch, isolated_lab):
    import_file(goog_csv, "GOOG")
    assert stored_path("GOOG") == "datasets/GOOG.parquet"
    before = run_backtest(load_dataset("GOOG"), "sma_cross", {"fast": 10, "slow": 30})
    assert before.metrics["n_trades"] > 0

    new = tmp_path / "elsewhere" / "lab"
    move_lab(monkeypatch, isolated_lab, new)
    assert not isolated_lab.exists() and get_settings().data_dir == new

    info = get_dataset_info("GOOG")
    assert info.path == str(new / "datasets" / "GOOG.parquet")
    df = load_dataset("GOOG")
    assert df.equals(goog)
    after = run_backtest(df, "sma_cross", {"fast": 10, "slow": 30})
    assert after.trades.equals(before.trades) and after.metrics == before.metrics


def test_samples_resolve_against_the_samples_dir_wherever_it_is(tmp_path, monkeypatch):
    list_datasets()
    assert stored_path("SP500") == "SP500.parquet"
    moved = tmp_path / "moved-samples"
    shutil.copytree(get_settings().samples_dir, moved)
    monkeypatch.setenv("STRATLAB_SAMPLES_DIR", str(moved))
    reset_settings()
    assert get_dataset_info("SP500").path == str(moved / "SP500.parquet")
    (moved / "SP500.parquet").unlink()
    with pytest.raises(DataError, match=r"the file of dataset SP500 is missing .*moved-samples"):
        load_dataset("SP500")


def test_a_legacy_absolute_path_still_resolves(goog_csv, goog, tmp_path):
    import_file(goog_csv, "GOOG")
    elsewhere = tmp_path / "old-release" / "GOOG.parquet"
    elsewhere.parent.mkdir()
    shutil.move(get_settings().datasets_dir / "GOOG.parquet", elsewhere)
    set_path("GOOG", str(elsewhere))  # what a release before relative paths stored
    assert get_dataset_info("GOOG").path == str(elsewhere)
    assert load_dataset("GOOG").equals(goog)
