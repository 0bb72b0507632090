"""The scheduler's own table: one ``job_runs`` row per execution of a scheduled job.

Apart from :mod:`engine.scheduler` so that :func:`engine.db.init_db` can create it without
importing APScheduler. (APScheduler's ``apscheduler_jobs`` table belongs to its
``SQLAlchemyJobStore``, which creates it; the migrations leave it alone.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel

from engine.tables import utcnow

#: The job store's table name (owned by APScheduler, in the lab's database).
JOBS_TABLE = "apscheduler_jobs"


class JobRun(SQLModel, table=True):
    """One execution of a scheduled job, as the listener saw it."""

    __tablename__ = "job_runs"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(index=True, max_length=191)
    status: str = Field(max_length=16)  # running | success | error | missed
    started_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    finished_at: datetime | None = Field(default=None, sa_type=DateTime)
    result: Any = Field(default=None, sa_column=Column(JSON))
    error: str = Field(default="", sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
