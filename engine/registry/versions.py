"""Model versions: registration, integrity hashes, lineage edges, querying.

Every trained model file becomes a **version** (``register_version``) in the seed's
``model_versions`` table, with the SHA-256 and size of its file. Nothing loads or deploys a
version without :func:`verify_file` first: a file that changed since it was registered
raises :class:`~engine.errors.ModelIntegrityError` ("… hash does not match …"), a missing
one a plain :class:`~engine.errors.StratLabError`. The registry records the file where the
trainer wrote it (the neural package decides the storage paths); it never copies it. The
path is stored relative to the data directory (:mod:`engine.paths`), so a lab folder can be
moved; :attr:`ModelVersionInfo.file_path` is the file's path today (absolute).

Version ids look like ``lstm-20261122-a1b2c3``: the model type, the UTC date of
registration and six random hex digits (retried on the rare collision).

Example::

    info = register_version(model_name="lstm-SYN-TREND", model_type="lstm",
                            file_path=path, metadata={"config": cfg.to_dict()},
                            performance_metrics={"accuracy": 0.61})
    verify_file(info.version_id)            # the path, after checking the SHA-256
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.config import get_settings
from engine.db import read_scope, session_scope
from engine.errors import ModelIntegrityError, ParameterError, StratLabError
from engine.paths import resolve_stored, to_stored
from engine.registry.tables import (
    RELATIONSHIPS,
    ModelDeployment,
    ModelLineage,
    ModelVersion,
)
from engine.tables import utcnow

#: ``list_versions(sort=...)``: a column, or a metric read from ``performance_metrics``.
SORT_KEYS = ("created_at", "accuracy", "return_pct", "sharpe", "model_type", "version_id")


# ---------------------------------------------------------------------------- info objects

@dataclass(frozen=True)
class ModelVersionInfo:
    """A version as the pages and the command line see it (every seed field)."""

    version_id: str
    model_name: str
    model_type: str
    file_path: str
    metadata: dict[str, Any]
    performance_metrics: dict[str, Any]
    created_at: datetime
    created_by: str
    status: str
    parent_version: str | None
    tags: list[str]
    description: str
    file_hash: str
    file_size: int
    deployed_to: list[str] = field(default_factory=list)  # environments where it is current

    @property
    def accuracy(self) -> float | None:
        return finite_number(self.performance_metrics.get("accuracy"))

    @property
    def return_pct(self) -> float | None:
        return metric_return_pct(self.performance_metrics)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        return d


def version_info(row: ModelVersion, deployed_to: list[str] | None = None
                 ) -> ModelVersionInfo:
    """The info object of a row (``deployed_to``: environments where it is current)."""
    return ModelVersionInfo(
        version_id=row.version_id, model_name=row.model_name, model_type=row.model_type,
        file_path=str(resolve_stored(row.file_path, get_settings().data_dir)),
        metadata=dict(row.meta or {}),
        performance_metrics=dict(row.performance_metrics or {}), created_at=row.created_at,
        created_by=row.created_by, status=row.status, parent_version=row.parent_version,
        tags=list(row.tags or []), description=row.description or "",
        file_hash=row.file_hash, file_size=int(row.file_size or 0),
        deployed_to=sorted(deployed_to or []),
    )


# --------------------------------------------------------------------------------- helpers

def finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def metric_return_pct(metrics: Mapping[str, Any]) -> float | None:
    """The return of a version's strategy in percent: ``return_pct``, else the backtest's
    ``total_return_pct`` (top level or under ``backtest`` / ``backtest.metrics``)."""
    for key in ("return_pct", "total_return_pct"):
        if finite_number(metrics.get(key)) is not None:
            return finite_number(metrics.get(key))
    bt = metrics.get("backtest")
    if isinstance(bt, Mapping):
        inner = bt.get("metrics") if isinstance(bt.get("metrics"), Mapping) else bt
        return finite_number(inner.get("total_return_pct"))
    return None


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested metrics dict with dotted names (lists are skipped)."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_metrics(value, f"{name}."))
        elif finite_number(value) is not None:
            out[name] = float(value)
    return out


def _metric(info: ModelVersionInfo, key: str) -> float | None:
    if key == "accuracy":
        return info.accuracy
    if key == "return_pct":
        return info.return_pct
    flat = flatten_metrics(info.performance_metrics)
    return flat.get(key, flat.get(f"backtest.{key}", flat.get(f"backtest.metrics.{key}")))


def file_sha256(path: str | Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def _new_version_id(model_type: str) -> str:
    kind = "".join(c if c.isalnum() else "_" for c in model_type.lower()) or "model"
    return f"{kind}-{utcnow():%Y%m%d}-{uuid.uuid4().hex[:6]}"


def version_row(s: Session, version_id: str) -> ModelVersion:
    row = s.get(ModelVersion, version_id)
    if row is None:
        raise StratLabError(
            f"no model version {version_id!r}; list them with `python -m engine models list`")
    return row


def deployed_environments(s: Session) -> dict[str, list[str]]:
    rows = s.exec(select(ModelDeployment).where(ModelDeployment.status == "active")).all()
    out: dict[str, list[str]] = {}
    for d in rows:
        out.setdefault(d.version_id, []).append(d.environment)
    return out


# ---------------------------------------------------------------------------- registration

def register_version(
    *,
    model_name: str,
    model_type: str,
    file_path: Path,
    metadata: dict,
    performance_metrics: dict,
    created_by: str = "user",
    parent_version: str | None = None,
    relationship: str = "trained",
    tags: list[str] | None = None,
    description: str = "",
) -> ModelVersionInfo:
    """Record a trained model file as a new ``ACTIVE`` version and return it.

    The file's SHA-256 and size are computed now; ``parent_version`` (which must exist)
    adds a ``model_lineage`` row with ``relationship`` (``trained``, ``retrained_from``,
    ``promoted_from`` or ``parent``). ``metadata["config"]`` should hold the training
    configuration so a retrain can rebuild it.
    """
    path = Path(file_path)
    if not path.is_file():
        raise StratLabError(f"model file {path} does not exist; train the model first")
    if relationship not in RELATIONSHIPS:
        raise ParameterError(
            f"relationship {relationship!r} is not one of {', '.join(RELATIONSHIPS)}")
    if not model_name or not model_type:
        raise ParameterError("model_name and model_type must not be empty")
    digest, size = file_sha256(path)
    clean_tags = sorted({t.strip() for t in (tags or []) if t and t.strip()})
    for _ in range(5):
        vid = _new_version_id(model_type)
        try:
            with session_scope() as s:
                if parent_version is not None:
                    version_row(s, parent_version)
                row = ModelVersion(
                    version_id=vid, model_name=model_name, model_type=model_type,
                    file_path=to_stored(path, get_settings().data_dir),
                    meta=dict(metadata or {}),
                    performance_metrics=dict(performance_metrics or {}),
                    created_by=created_by, status="ACTIVE", parent_version=parent_version,
                    tags=clean_tags, description=description, file_hash=digest,
                    file_size=size,
                )
                s.add(row)
                s.flush()
                if parent_version is not None:
                    s.add(ModelLineage(version_id=vid, parent_version=parent_version,
                                       relationship_type=relationship))
                return version_info(row)
        except IntegrityError:  # version id collision: draw another
            continue
    raise StratLabError("could not allocate a unique version id; try again")


def add_lineage(version_id: str, parent_version: str, relationship: str = "parent") -> None:
    """Add (or retype) an edge ``parent_version → version_id`` (e.g. ``promoted_from``)."""
    if relationship not in RELATIONSHIPS:
        raise ParameterError(
            f"relationship {relationship!r} is not one of {', '.join(RELATIONSHIPS)}")
    if version_id == parent_version:
        raise ParameterError("a version cannot be its own parent")
    with session_scope() as s:
        version_row(s, version_id)
        version_row(s, parent_version)
        row = s.get(ModelLineage, (version_id, parent_version))
        if row is None:
            row = ModelLineage(version_id=version_id, parent_version=parent_version)
        row.relationship_type = relationship
        s.add(row)


def verify_file(version_id: str) -> Path:
    """The version's file path after checking it still has the registered SHA-256.

    Raises :class:`ModelIntegrityError` when the hash does not match and
    :class:`StratLabError` when the file is missing. Call it before every load.
    """
    info = get_version(version_id)
    path = Path(info.file_path)
    if not path.is_file():
        raise StratLabError(
            f"the file of model version {version_id} is missing ({path}); retrain the model "
            "or archive the version")
    digest, _ = file_sha256(path)
    if digest != info.file_hash:
        raise ModelIntegrityError(
            f"model version {version_id}: the file's SHA-256 hash does not match the "
            f"registered one (expected {info.file_hash[:12]}…, found {digest[:12]}…); the file "
            f"{path} was modified or replaced — it will not be loaded or deployed; retrain it")
    return path


# -------------------------------------------------------------------------------- querying

def get_version(version_id: str) -> ModelVersionInfo:
    with read_scope() as s:
        row = version_row(s, version_id)
        return version_info(row, deployed_environments(s).get(version_id))


def list_versions(
    *,
    model_type: str | None = None,
    status: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    sort: str = "created_at",
    descending: bool = True,
    limit: int | None = None,
) -> list[ModelVersionInfo]:
    """Versions filtered by type, status, tag and a case-insensitive text search (id, name,
    description, tags), sorted by ``sort`` (one of :data:`SORT_KEYS` or any metric name in
    ``performance_metrics``; versions without the metric come last)."""
    with read_scope() as s:
        q = select(ModelVersion)
        if model_type:
            q = q.where(ModelVersion.model_type == model_type)
        if status:
            q = q.where(ModelVersion.status == status.upper())
        rows = list(s.exec(q.order_by(col(ModelVersion.created_at).desc(),
                                      col(ModelVersion.version_id).desc())).all())
        envs = deployed_environments(s)
    infos = [version_info(r, envs.get(r.version_id)) for r in rows]
    if tag:
        infos = [i for i in infos if tag in i.tags]
    if search:
        needle = search.lower()
        infos = [i for i in infos if needle in " ".join(
            [i.version_id, i.model_name, i.description, i.model_type, *i.tags]).lower()]
    if sort in ("created_at", "model_type", "version_id"):
        infos.sort(key=lambda i: (getattr(i, sort), i.version_id), reverse=descending)
    else:
        have = [i for i in infos if _metric(i, sort) is not None]
        missing = [i for i in infos if _metric(i, sort) is None]
        have.sort(key=lambda i: _metric(i, sort), reverse=descending)
        infos = have + missing
    return infos[:limit] if limit else infos


def update_version(version_id: str, *, tags: list[str] | None = None,
                   description: str | None = None) -> ModelVersionInfo:
    """Replace the version's tags and/or description (``None`` leaves a field as is)."""
    with session_scope() as s:
        row = version_row(s, version_id)
        if tags is not None:
            row.tags = sorted({t.strip() for t in tags if t and t.strip()})
        if description is not None:
            row.description = description
        s.add(row)
        return version_info(row, deployed_environments(s).get(version_id))


def archive(version_id: str) -> ModelVersionInfo:
    """Mark a version ``ARCHIVED`` (refused while it is the current deployment anywhere)."""
    with session_scope() as s:
        row = version_row(s, version_id)
        envs = deployed_environments(s).get(version_id, [])
        if envs:
            raise StratLabError(
                f"version {version_id} is deployed to {', '.join(sorted(envs))}; deploy another "
                "version there (or roll back) before archiving it")
        row.status = "ARCHIVED"
        s.add(row)
        return version_info(row)
