"""One lock row per model name, so a model is never retrained twice at once.

``retrain_locks`` has the model name as primary key: the second insert fails whichever
thread or process tries it. A lock whose owner process is gone is cleared when found and on
the scheduler's start and by every entry point that lists or starts retrains
(:func:`recover_interrupted`, which also marks that owner's running records ``interrupted``;
a record's owner is its pid plus, in ``details["owner"]``, host and process start time, so a
reused pid is not mistaken for it).
"""

from __future__ import annotations

import os
import socket

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from engine import scheduler
from engine.db import read_scope, session_scope
from engine.errors import StratLabError
from engine.processes import owner_alive
from engine.retrain.tables import RetrainLock, RetrainRecord
from engine.tables import utcnow


class RetrainBusy(StratLabError):
    """A retrain of the same model is already running."""


def lock_holder(model_name: str) -> RetrainLock | None:
    """The lock on ``model_name`` (None when free; a dead owner's lock is cleared)."""
    with session_scope() as s:
        row = s.get(RetrainLock, model_name)
        if row is not None and not owner_alive(row.owner_pid, row.owner_host):
            s.delete(row)
            return None
        return row


def acquire(model_name: str) -> None:
    """Take the lock on ``model_name`` or raise :class:`RetrainBusy`."""
    lock_holder(model_name)  # clears a dead owner's lock
    try:
        with session_scope() as s:
            s.add(RetrainLock(model_name=model_name, record_id=0, owner_pid=os.getpid(),
                              owner_host=socket.gethostname()))
    except IntegrityError:
        holder = lock_holder(model_name)
        rec = f" (record #{holder.record_id})" if holder and holder.record_id else ""
        raise RetrainBusy(f"model {model_name} is already being retrained{rec}; wait for it "
                          "to finish (see the retrain queue)") from None


def release(model_name: str) -> None:
    """Drop this process's lock on ``model_name`` (someone else's stays)."""
    with session_scope() as s:
        row = s.get(RetrainLock, model_name)
        if row is not None and row.owner_pid == os.getpid():
            s.delete(row)


def _record_alive(rec: RetrainRecord) -> bool:
    owner = (rec.details or {}).get("owner") or {}
    return owner_alive(rec.owner_pid, owner.get("host") or "", owner.get("started"))


def recover_interrupted() -> list[int]:
    """Release locks of dead processes and mark their running records ``interrupted``.

    Called by every entry point that lists or starts retrains (and on the scheduler's
    start), so it first only reads; it writes only when an owner really died."""
    with read_scope() as s:
        dead_locks = [lk.model_name for lk in s.exec(select(RetrainLock)).all()
                      if not owner_alive(lk.owner_pid, lk.owner_host)]
        held = {lk.record_id for lk in s.exec(select(RetrainLock)).all()
                if lk.model_name not in dead_locks}
        dead = [int(rec.id) for rec in s.exec(select(RetrainRecord).where(
            RetrainRecord.status == "running")).all()
            if rec.id not in held and not _record_alive(rec)]
    if not dead_locks and not dead:
        return []
    fixed = []
    with session_scope() as s:
        for name in dead_locks:
            lock = s.get(RetrainLock, name)
            if lock is not None and not owner_alive(lock.owner_pid, lock.owner_host):
                s.delete(lock)
        for rid in dead:
            rec = s.get(RetrainRecord, rid)
            if rec is None or rec.status != "running" or _record_alive(rec):
                continue
            rec.status, rec.decision = "interrupted", "failed"
            rec.error = rec.error or "the process running this retrain stopped"
            rec.finished_at = utcnow()
            s.add(rec)
            fixed.append(rid)
    return fixed


scheduler.on_startup(recover_interrupted)  # runs left "running" by a dead process → interrupted
