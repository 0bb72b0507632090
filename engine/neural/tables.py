"""Tables of background training: one row per run, one row per finished epoch.

The training subprocess writes them (one short transaction per epoch); the Neural Models
page polls them. ``training_runs.result`` holds the run's full ``TrainResult.to_dict()``
(metrics, backtests, history, test-period predictions, equity curves) once it completes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel

from engine.tables import utcnow

#: queued → running → completed | failed | stopped; "interrupted" when its process died.
RUN_STATUSES = ("queued", "running", "completed", "failed", "stopped", "interrupted")
ACTIVE = ("queued", "running")


class TrainingRun(SQLModel, table=True):
    __tablename__ = "training_runs"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    started_at: datetime | None = Field(default=None, sa_type=DateTime)
    finished_at: datetime | None = Field(default=None, sa_type=DateTime)
    status: str = Field(default="queued", max_length=16, index=True)
    symbol: str = Field(max_length=64)
    model_type: str = Field(max_length=16)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    register_model: bool = True  # False: write the file, create no registry version
    created_by: str = Field(default="user", max_length=64)
    parent_version: str | None = Field(default=None, max_length=191)
    relationship: str = Field(default="trained", max_length=32)
    job_id: str | None = Field(default=None, max_length=191)
    pid: int | None = None
    host: str | None = Field(default=None, max_length=255)
    proc_started: float | None = None
    device: str | None = Field(default=None, max_length=32)
    epochs_total: int = 0
    epochs_done: int = 0
    best_epoch: int = 0
    samples_per_second: float | None = None
    requested_action: str | None = Field(default=None, max_length=16)
    version_id: str | None = Field(default=None, max_length=191)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str = Field(default="", sa_column=Column(Text))


class TrainingEpoch(SQLModel, table=True):
    __tablename__ = "training_epochs"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="training_runs.id", index=True)
    epoch: int
    train_loss: float | None = None
    val_loss: float | None = None
    train_acc: float | None = None
    val_acc: float | None = None
    seconds: float | None = None
    samples_per_second: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
