"""Auto-retrain tables: the saved policy, the retrain records (queue and history), the locks.

- ``retrain_settings`` — one row per policy field the user saved on the Auto-Retrain page
  (``key`` → JSON ``value``); absent keys fall back to the environment, then the defaults;
- ``retrain_records`` — one row per retrain: ``queued`` → ``running`` → ``deployed`` |
  ``kept`` (the quality gate refused it) | ``failed`` | ``interrupted`` (its process died);
  the queue is the queued and running rows, the history the others;
- ``retrain_locks`` — one row per model name being retrained (primary key), so two retrains
  of the same model can never run at once, whichever process or thread starts them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel

from engine.tables import utcnow

RECORD_STATUSES = ("queued", "running", "deployed", "kept", "failed", "interrupted")
ACTIVE_STATUSES = ("queued", "running")


class RetrainSetting(SQLModel, table=True):
    __tablename__ = "retrain_settings"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(default=None, sa_column=Column(JSON))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class RetrainRecord(SQLModel, table=True):
    """One retrain of a version: why, what it produced, and what the quality gate decided."""

    __tablename__ = "retrain_records"

    id: int | None = Field(default=None, primary_key=True)
    version_id: str = Field(index=True, max_length=128)  # the version retrained (the parent)
    model_name: str = Field(index=True, max_length=191)
    trigger: str = Field(default="manual", max_length=64)  # manual | accuracy+return+interval
    status: str = Field(default="queued", index=True, max_length=16)
    new_version_id: str | None = Field(default=None, max_length=128)
    decision: str = Field(default="", max_length=32)  # deployed | kept | failed
    reason: str = Field(default="", sa_column=Column(Text))
    error: str = Field(default="", sa_column=Column(Text))
    old_metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    new_metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    environments: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    owner_pid: int | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=DateTime)
    started_at: datetime | None = Field(default=None, sa_type=DateTime)
    finished_at: datetime | None = Field(default=None, sa_type=DateTime)

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump()
        for k in ("created_at", "started_at", "finished_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


class RetrainLock(SQLModel, table=True):
    """Held while a model is being retrained (released in ``finally``; a dead owner's lock
    is cleared on the scheduler's start and whenever it is found)."""

    __tablename__ = "retrain_locks"

    model_name: str = Field(primary_key=True, max_length=191)
    record_id: int
    owner_pid: int
    owner_host: str = Field(default="", max_length=191)
    acquired_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
