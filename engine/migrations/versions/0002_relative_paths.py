"""Stored file paths become relative, so a lab folder can be moved.

The release before this one stored absolute paths: ``datasets.path``,
``model_versions.file_path``, ``training_runs.result["file_path"]`` and the ``file_path``
(and ``scaler_path``) of each version card
(``<data dir>/model_versions/<version>.neural.json``). Each is rewritten
to the form :mod:`engine.paths` reads, against the *current* data directory
(``get_settings().data_dir``):

- a bundled sample (``datasets.source == "sample"``): its file name, relative to the samples
  directory (the checkout the lab was first opened from is irrelevant);
- a path inside the current data directory: relative to it;
- a path into a folder that no longer exists (a lab copied elsewhere before upgrading): the
  tail from its last ``datasets/``, ``models/``, ``scalers/`` or ``model_versions/``
  component, when that file exists under the current data directory;
- anything else stays as it was, with a warning naming it (the file may still be found
  where it is, e.g. a model kept outside the lab).

Already relative paths are left alone, so the revision is safe to run on any database.

Revision ID: 0002_relative_paths
Revises: 0001_initial
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.config import get_settings
from engine.paths import is_relative_stored, resolve_stored, to_stored

revision: str = "0002_relative_paths"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("engine.migrations")

#: Folders of the data directory that hold files the database points at.
DATA_FOLDERS = ("datasets", "models", "scalers", "model_versions")

_datasets = sa.table("datasets", sa.column("id", sa.Integer), sa.column("source", sa.String),
                     sa.column("path", sa.String))
_versions = sa.table("model_versions", sa.column("version_id", sa.String),
                     sa.column("file_path", sa.String))
_runs = sa.table("training_runs", sa.column("id", sa.Integer), sa.column("result", sa.JSON))


def _parts(stored: str) -> tuple[str, ...]:
    """The components of a stored absolute path, POSIX or Windows (a lab made on either)."""
    win = PureWindowsPath(stored)
    return win.parts if win.drive else PurePosixPath(stored).parts


def _is_relative(stored: str) -> bool:
    """Relative in the stored form (a Windows drive path counts as absolute on any OS)."""
    return is_relative_stored(stored) and not PureWindowsPath(stored).drive


def _inside(path: str, base: Path) -> bool:
    if PureWindowsPath(path).drive and os.name != "nt":  # a Windows lab opened elsewhere
        return False
    try:
        Path(path).resolve().relative_to(base.resolve())
        return True
    except (ValueError, OSError):
        return False


def relative_path(stored: str, data_dir: Path, *, what: str) -> str:
    """What a data-directory file's stored path becomes (rules in the module doc)."""
    if not stored or _is_relative(stored):
        return stored
    if _inside(stored, data_dir):
        return to_stored(stored, data_dir)
    parts = _parts(stored)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in DATA_FOLDERS and i < len(parts) - 1:
            tail = PurePosixPath(*parts[i:]).as_posix()
            if resolve_stored(tail, data_dir).is_file():
                return tail
            break
    log.warning("%s: cannot re-root %s onto the data directory %s (no such file there); "
                "left as it is", what, stored, data_dir)
    return stored


def sample_path(stored: str, samples_dir: Path) -> str:
    """A bundled sample's stored path: relative to the samples directory."""
    if not stored or _is_relative(stored):
        return stored
    if _inside(stored, samples_dir):
        return to_stored(stored, samples_dir)
    return PurePath(_parts(stored)[-1]).as_posix()


def _rewrite_card(card_path: Path, data_dir: Path) -> None:
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError):
        return
    changed = False
    for key in ("file_path", "scaler_path"):
        old = card.get(key)
        if isinstance(old, str):
            card[key] = relative_path(old, data_dir, what=f"version card {card_path.name}")
            changed = changed or card[key] != old
    if not changed:
        return
    tmp = card_path.with_name(f".{card_path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(card, indent=1, default=str))
    os.replace(tmp, card_path)


def upgrade() -> None:
    settings = get_settings()
    data_dir, samples_dir = Path(settings.data_dir), Path(settings.samples_dir)
    conn = op.get_bind()
    for row in conn.execute(sa.select(_datasets.c.id, _datasets.c.source, _datasets.c.path)):
        if row.source == "sample":
            new = sample_path(row.path, samples_dir)
        else:
            new = relative_path(row.path, data_dir, what=f"dataset #{row.id}")
        if new != row.path:
            conn.execute(_datasets.update().where(_datasets.c.id == row.id).values(path=new))
    for row in conn.execute(sa.select(_versions.c.version_id, _versions.c.file_path)):
        new = relative_path(row.file_path, data_dir, what=f"model version {row.version_id}")
        if new != row.file_path:
            conn.execute(_versions.update().where(_versions.c.version_id == row.version_id)
                         .values(file_path=new))
        _rewrite_card(data_dir / "model_versions" / f"{row.version_id}.neural.json", data_dir)
    for row in conn.execute(sa.select(_runs.c.id, _runs.c.result)):
        result: Any = row.result
        if isinstance(result, dict) and isinstance(result.get("file_path"), str):
            new = relative_path(result["file_path"], data_dir, what=f"training run #{row.id}")
            if new != result["file_path"]:
                conn.execute(_runs.update().where(_runs.c.id == row.id)
                             .values(result={**result, "file_path": new}))


def downgrade() -> None:
    """Back to absolute paths under the current data and samples directories."""
    settings = get_settings()
    data_dir, samples_dir = Path(settings.data_dir), Path(settings.samples_dir)
    conn = op.get_bind()
    for row in conn.execute(sa.select(_datasets.c.id, _datasets.c.source, _datasets.c.path)):
        base = samples_dir if row.source == "sample" else data_dir
        new = resolve_stored(row.path, base).as_posix()
        if new != row.path:
            conn.execute(_datasets.update().where(_datasets.c.id == row.id).values(path=new))
    for row in conn.execute(sa.select(_versions.c.version_id, _versions.c.file_path)):
        new = resolve_stored(row.file_path, data_dir).as_posix()
        if new != row.file_path:
            conn.execute(_versions.update().where(_versions.c.version_id == row.version_id)
                         .values(file_path=new))
