"""The model registry's three tables, exactly the seed's, as SQLModel models.

- ``model_versions`` — one row per trained model file (``version_id`` primary key);
- ``model_lineage`` — one row per parent link, primary key ``(version_id, parent_version)``,
  ``relationship_type`` one of ``trained``, ``retrained_from``, ``promoted_from``, ``parent``;
- ``model_deployments`` — one row per deployment of a version to an environment
  (``paper`` or ``production``), ``status`` ``active`` (the environment's current one),
  ``superseded`` (replaced by a later deployment) or ``rolled_back``.

``metadata``, ``performance_metrics``, ``tags`` and ``performance_snapshot`` are JSON columns
(SQLite and PostgreSQL alike). ``metadata`` is a reserved attribute name in SQLAlchemy's
declarative classes, so the Python attribute is ``meta`` over a column named ``metadata``.
Times are naive UTC (:func:`engine.tables.utcnow`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel

from engine.tables import utcnow

RELATIONSHIPS = ("trained", "retrained_from", "promoted_from", "parent")
VERSION_STATUSES = ("ACTIVE", "ARCHIVED")
DEPLOYMENT_STATUSES = ("active", "superseded", "rolled_back")


class ModelVersion(SQLModel, table=True):
    """A registered model file with its metadata, metrics and integrity hash."""

    __tablename__ = "model_versions"

    version_id: str = Field(primary_key=True, max_length=128)
    model_name: str = Field(index=True, max_length=191)
    model_type: str = Field(index=True, max_length=64)
    file_path: str
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON))
    performance_metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=DateTime)
    created_by: str = Field(default="user", max_length=64)
    status: str = Field(default="ACTIVE", index=True, max_length=16)
    parent_version: str | None = Field(default=None, index=True, max_length=128)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    description: str = Field(default="", sa_column=Column(Text))
    file_hash: str = Field(default="", max_length=64)
    file_size: int = 0


class ModelLineage(SQLModel, table=True):
    """A parent → child edge of the lineage graph."""

    __tablename__ = "model_lineage"

    version_id: str = Field(primary_key=True, max_length=128)
    parent_version: str = Field(primary_key=True, index=True, max_length=128)
    relationship_type: str = Field(default="trained", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class ModelDeployment(SQLModel, table=True):
    """One deployment of a version to an environment, with the metrics it was deployed on."""

    __tablename__ = "model_deployments"

    deployment_id: str = Field(primary_key=True, max_length=64)
    version_id: str = Field(foreign_key="model_versions.version_id", index=True, max_length=128)
    environment: str = Field(index=True, max_length=32)
    deployed_at: datetime = Field(default_factory=utcnow, index=True, sa_type=DateTime)
    status: str = Field(default="active", max_length=16)
    performance_snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
