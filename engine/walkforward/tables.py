"""Walk-forward tables: the analysis and its windows.

An analysis row holds the configuration, the status and — once every window is evolved
and traded — the summary (stitched metrics, efficiency, gene stability). A window row holds
its bar ranges, the evolution run that optimised its in-sample bars, and after that run the
chosen genes with their in-sample metrics; its out-of-sample metrics are written when the
analysis stitches. A window whose genes are stored is *finished*: a resumed analysis never
evolves it again. Datetimes are naive UTC; payloads are JSON columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.tables import utcnow

ANALYSIS_STATUSES = ("created", "running", "completed", "interrupted", "failed")


class WalkForwardAnalysis(SQLModel, table=True):
    __tablename__ = "walkforward_analyses"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    symbol: str = Field(default="", max_length=64)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="created", max_length=16, index=True)
    n_windows: int = 0
    windows_done: int = 0
    data_fingerprint: str = ""
    seconds: float = 0.0
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    error: str = Field(default="", sa_column=Column(Text))
    owner_pid: int | None = None
    owner_host: str = Field(default="", max_length=255)
    owner_started: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class WalkForwardWindow(SQLModel, table=True):
    """One in-sample / out-of-sample window pair of an analysis."""

    __tablename__ = "walkforward_windows"
    __table_args__ = (UniqueConstraint("analysis_id", "window_index"),)

    id: int | None = Field(default=None, primary_key=True)
    analysis_id: int = Field(foreign_key="walkforward_analyses.id", index=True)
    window_index: int
    is_lo: int
    is_hi: int
    oos_lo: int
    oos_hi: int
    is_start: datetime = Field(sa_type=DateTime)
    is_end: datetime = Field(sa_type=DateTime)
    oos_start: datetime = Field(sa_type=DateTime)
    oos_end: datetime = Field(sa_type=DateTime)
    seed: int = Field(default=0, sa_type=BigInteger)  # seeds reach 2^32 - 1
    evolution_run_id: int | None = None
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    fitness: float | None = None
    in_sample: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    out_of_sample: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
