"""Foundation tables: datasets and saved backtests.

Each subpackage keeps its own ``tables`` module, listed in ``engine.db.TABLE_MODULES``.
Every table has a ``created_at``; JSON payloads are stored as JSON columns so PostgreSQL works
as well as SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Naive UTC timestamp (SQLite has no time zones; every table stores UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Dataset(SQLModel, table=True):
    """A market-data set the lab knows: a bundled sample, an import or a download."""

    __tablename__ = "datasets"

    id: int | None = Field(default=None, primary_key=True)
    symbol: str = Field(index=True, unique=True, max_length=64)
    source: str = Field(max_length=16)  # sample | import | download
    synthetic: bool = False
    path: str
    timeframe: str = Field(default="1d", max_length=16)
    n_rows: int = 0
    # sa_type=DateTime: naive UTC storage (sqlmodel >= 0.0.50 otherwise demands aware values)
    start: datetime | None = Field(default=None, sa_type=DateTime)
    end: datetime | None = Field(default=None, sa_type=DateTime)
    n_rejected: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    description: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class BacktestRun(SQLModel, table=True):
    """One saved backtest: inputs to reproduce it and its metrics and trades."""

    __tablename__ = "backtest_runs"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=DateTime)
    symbols: str  # comma-separated, one for a single-symbol run
    strategy: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    start: datetime | None = Field(default=None, sa_type=DateTime)
    end: datetime | None = Field(default=None, sa_type=DateTime)
    data_fingerprint: str = ""
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    trades: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    label: str = ""
