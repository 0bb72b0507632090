"""Evolution tables: runs, generations, individuals, checkpoints, promoted strategies.

Datetimes are naive UTC (``sa_type=DateTime``); payloads are JSON columns (never pickle),
with non-finite numbers stored as null. One generation — its statistics rows, its
individuals and the checkpoint — is written in one transaction
(:func:`engine.evolution.store.commit_generation`), so a killed process loses at most the
generation in flight.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.tables import utcnow

RUN_STATUSES = ("created", "running", "paused", "stopping", "stopped", "completed",
                "interrupted", "failed")


class EvolutionRun(SQLModel, table=True):
    __tablename__ = "evolution_runs"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="created", max_length=16, index=True)
    requested_action: str | None = Field(default=None, max_length=16)  # pause | stop
    generations_done: int = 0
    target_generations: int | None = None
    evaluations: int = 0
    seconds: float = 0.0
    data_fingerprint: str = ""
    split: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    in_sample_end: datetime | None = Field(default=None, sa_type=DateTime)
    out_of_sample_start: datetime | None = Field(default=None, sa_type=DateTime)
    best_fitness: float | None = None
    mean_fitness: float | None = None
    best_uid: int | None = None
    best: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    error: str = Field(default="", sa_column=Column(Text))
    owner_pid: int | None = None
    owner_host: str = Field(default="", max_length=255)
    owner_started: float | None = None  # the owner's process creation time (pid reuse)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class EvolutionGeneration(SQLModel, table=True):
    """Statistics of one generation: island -1 is all islands combined."""

    __tablename__ = "evolution_generations"
    __table_args__ = (UniqueConstraint("run_id", "generation", "island"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evolution_runs.id", index=True)
    generation: int
    island: int = -1
    best: float
    mean: float
    worst: float
    diversity: float
    mutation_rate: float | None = None
    evaluations: int = 0
    n_individuals: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class EvolutionIndividual(SQLModel, table=True):
    """One member of one generation's population (an elite appears once per generation)."""

    __tablename__ = "evolution_individuals"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evolution_runs.id", index=True)
    uid: int = Field(index=True)
    generation: int = Field(index=True)
    island: int = 0
    born: int = 0  # generation in which the genome was first evaluated
    age: int = 0
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    fitness: float
    objectives: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    in_sample: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    out_of_sample: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    parents: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    evaluated: bool = True  # False for survivors/clones carried without a new backtest
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class EvolutionCheckpoint(SQLModel, table=True):
    """Everything needed to continue exactly after ``generation`` (latest only is kept)."""

    __tablename__ = "evolution_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evolution_runs.id", index=True)
    generation: int
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PromotedStrategy(SQLModel, table=True):
    """A genome promoted from an evolution run to a named, runnable strategy."""

    __tablename__ = "promoted_strategies"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=64)
    strategy: str = Field(default="genome", max_length=32)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    source_run_id: int | None = None
    source_uid: int | None = None
    symbols: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    split: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    fitness: float | None = None
    in_sample: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    out_of_sample: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # the run's data-snooping figures at promotion (engine.research.gate; migration 0006)
    statistics: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)

