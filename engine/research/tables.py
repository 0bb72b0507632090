"""The data-snooping statistics of evolution runs, cached per run and generation count.

One row per (run, generations done): :func:`engine.research.stats.run_statistics` reuses it
while the run's evaluated genomes are unchanged (``fingerprint``) and the options match, and
replaces it otherwise (a reset run that reaches the same generation count again). No
foreign key: a figure about a run never stops that run's rows from being cleared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.tables import utcnow


class RunStatisticsRow(SQLModel, table=True):
    """PBO, SPA p-value and MinBTL of one run at one generation count (``payload``: all)."""

    __tablename__ = "run_statistics"
    __table_args__ = (UniqueConstraint("run_id", "generations_done"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(index=True)
    generations_done: int = 0
    fingerprint: str = Field(default="", max_length=64)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    pbo: float | None = None
    spa_pvalue: float | None = None
    min_backtest_years: float | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
