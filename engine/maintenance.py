"""Start-up clean-up of what killed processes leave in the data directory.

A ``kill -9`` (or a crash, or a full disk) can interrupt a writer between two steps and
leave files nothing will ever use. :func:`clean_orphans` removes them; it runs at the one
documented start-up point of each entry: the scheduler's start-up hooks (so the app's start,
:func:`engine.scheduler.run_startup_hooks`) and the command-line commands that write
(``train``, ``evolve``, ``retrain now``). What it cleans:

- ``datasets/.<SYMBOL>.<hex>.tmp`` — an import's Parquet file that was never moved into
  place (``engine.market.store``): removed; ``datasets/.<SYMBOL>.<hex>.bak`` — the previous
  file an import moved aside: removed when ``<SYMBOL>.parquet`` exists, put back when not;
- ``.<name>.<pid>.tmp`` in the model, scaler and version-card folders — an atomic write that
  never finished (:mod:`engine.neural.storage`): removed;
- a model file with a ``.pending`` marker (written before the file, dropped once the version
  is registered, :func:`engine.neural.storage.mark_pending`) that no version references:
  the model file, its scaler copy and the marker are removed. A file written on purpose
  without a version (``train --no-register``) has no marker and is never touched;
- worker pools whose owner died (:func:`engine.processes.reap_stale_pools`).

Files younger than ``grace_seconds`` (default :data:`ORPHAN_GRACE_SECONDS`, 10 minutes) are
left alone, and so is a pending file whose writer process still runs, so a concurrent writer
is never robbed of a file it is about to use.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine import scheduler

#: files younger than this are never cleaned (seconds)
ORPHAN_GRACE_SECONDS = 600.0

_DATASET_TMP = re.compile(r"^\.(?P<symbol>.+)\.[0-9a-f]{32}\.tmp$")
_DATASET_BAK = re.compile(r"^\.(?P<symbol>.+)\.[0-9a-f]{32}\.bak$")
_ATOMIC_TMP = re.compile(r"^\..+\.\d+\.tmp$")


@dataclass
class CleanupReport:
    """What one :func:`clean_orphans` call did (paths relative to the data directory)."""

    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    workers_ended: list[int] = field(default_factory=list)
    kept_young: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _age(path: Path, now: float) -> float:
    return now - path.stat().st_mtime


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:  # missing or unreadable folder: nothing to clean there
        return []


def _registered_model_files() -> set[Path]:
    from sqlmodel import select

    from engine.config import get_settings
    from engine.db import read_scope
    from engine.paths import resolve_stored
    from engine.registry.tables import ModelVersion

    base = get_settings().data_dir
    with read_scope() as s:
        stored = s.exec(select(ModelVersion.file_path)).all()
    return {resolve_stored(p, base).resolve() for p in stored if p}


def _writer_alive(marker: Path) -> bool:
    from engine.processes import pid_running

    try:
        pid = int(marker.read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    return bool(pid) and pid_running(pid)


def clean_orphans(*, grace_seconds: float = ORPHAN_GRACE_SECONDS,
                  now: float | None = None) -> CleanupReport:
    """Remove what killed writers left behind (see the module docstring); never raises —
    a file that cannot be removed is listed in ``errors``."""
    from engine.config import get_settings
    from engine.neural import storage
    from engine.processes import reap_stale_pools

    settings = get_settings()
    base = settings.data_dir
    now = time.time() if now is None else now
    rep = CleanupReport()

    def old_enough(path: Path) -> bool:
        try:
            if _age(path, now) >= grace_seconds:
                return True
        except OSError:
            return False
        rep.kept_young += 1
        return False

    def remove(path: Path) -> None:
        if not path.exists():
            return
        try:
            path.unlink()
            rep.removed.append(_rel(path, base))
        except OSError as exc:
            rep.errors.append(f"{_rel(path, base)}: {exc.strerror or exc}")

    # imports that never finished
    ddir = settings.datasets_dir
    for path in _files(ddir):
        if _DATASET_TMP.match(path.name) and old_enough(path):
            remove(path)
        elif (m := _DATASET_BAK.match(path.name)) and old_enough(path):
            final = ddir / f"{m['symbol']}.parquet"
            if final.exists():
                remove(path)
            else:
                try:
                    os.replace(path, final)
                    rep.restored.append(_rel(final, base))
                except OSError as exc:
                    rep.errors.append(f"{_rel(path, base)}: {exc.strerror or exc}")

    # atomic writes that never finished
    folders = [storage.model_dir(), storage.scaler_dir(), storage.version_dir()]
    for folder in folders:
        for path in _files(folder):
            if _ATOMIC_TMP.match(path.name) and old_enough(path):
                remove(path)

    # model files whose registration never happened
    markers = [p for p in _files(storage.model_dir()) if p.name.endswith(storage.PENDING_SUFFIX)]
    if markers:
        try:
            registered = _registered_model_files()
        except Exception as exc:  # no database yet: decide nothing about pending files
            rep.errors.append(f"model registry unreadable ({type(exc).__name__}); pending "
                              "model files kept")
            markers = []
        for marker in markers:
            if not old_enough(marker) or _writer_alive(marker):
                continue
            model = marker.with_name(marker.name[: -len(storage.PENDING_SUFFIX)])
            if model.resolve() not in registered:
                remove(model)
                remove(storage.scaler_dir() / f"{model.stem}.json")
            remove(marker)

    try:
        rep.workers_ended = reap_stale_pools()
    except Exception as exc:  # best effort, like everything here
        rep.errors.append(f"worker pools: {type(exc).__name__}: {exc}")
    return rep


def clean_orphans_quietly() -> None:
    """:func:`clean_orphans` for start-up hooks and commands: never stops the caller."""
    try:
        clean_orphans()
    except Exception:  # pragma: no cover - clean_orphans already catches file errors
        logging.getLogger(__name__).exception("orphan-file cleanup failed")


scheduler.on_startup(clean_orphans_quietly)  # the app's start (scheduler start-up hooks)
