"""Shared fixtures: every test runs against its own data directory and database."""

from __future__ import annotations

import os
import sys

import polars as pl
import pytest

from engine import db
from engine.config import reset_settings


@pytest.fixture(autouse=True)
def isolated_lab(tmp_path, monkeypatch):
    """Point STRATLAB_DATA_DIR (and so the SQLite database) at a fresh temp directory."""
    data_dir = tmp_path / "lab"
    monkeypatch.setenv("STRATLAB_DATA_DIR", str(data_dir))
    if not os.environ.get("STRATLAB_TEST_DATABASE_URL"):
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:  # run the suite against PostgreSQL: STRATLAB_TEST_DATABASE_URL=postgresql://...
        monkeypatch.setenv("DATABASE_URL", os.environ["STRATLAB_TEST_DATABASE_URL"])
    reset_settings()
    db.dispose_all()
    yield data_dir
    from engine import scheduler

    scheduler.shutdown()  # a page or job may have started the process-wide scheduler
    pool = sys.modules.get("engine.evolution.pool")
    if pool is not None:  # the evolution's worker pool outlives runs, not tests
        pool.shutdown_pool()
    db.dispose_all()
    reset_settings()


def _goog_frame() -> pl.DataFrame:
    from backtesting.test import GOOG  # the same bars as shared/data/GOOG_1d.csv

    pdf = GOOG.reset_index()
    return pl.DataFrame(
        {
            "timestamp": pdf.iloc[:, 0].to_numpy().astype("datetime64[us]"),
            "open": pdf["Open"].to_numpy(float),
            "high": pdf["High"].to_numpy(float),
            "low": pdf["Low"].to_numpy(float),
            "close": pdf["Close"].to_numpy(float),
            "volume": pdf["Volume"].to_numpy(float),
        }
    )


@pytest.fixture(scope="session")
def goog() -> pl.DataFrame:
    """GOOG daily 2004–2013 (2,148 bars) from backtesting.py's bundled test data."""
    return _goog_frame()
