"""One lock row per model name, so a model is never retrained twice at once.

``retrain_locks`` has the model name as primary key: the second insert fails whichever
thread or process tries it. A lock whose owner process is gone is cleared when found and on
the scheduler's start (:func:`recover_interrupted`, which also marks that owner's running
records ``interrupted``).
"""

from __future__ import annotations

import os
import socket

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from engine import scheduler
from engine.db import session_scope
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


def recover_interrupted() -> list[int]:
    """Release locks of dead processes and mark their running records ``interrupted``."""
    fixed = []
    with session_scope() as s:
        for lock in s.exec(select(RetrainLock)).all():
            if not owner_alive(lock.owner_pid, lock.owner_host):
                s.delete(lock)
        held = {lk.record_id for lk in s.exec(select(RetrainLock)).all()}
        for rec in s.exec(select(RetrainRecord).where(RetrainRecord.status == "running")).all():
            if rec.id not in held and not owner_alive(rec.owner_pid, ""):
                rec.status, rec.decision = "interrupted", "failed"
                rec.error = rec.error or "the process running this retrain stopped"
                rec.finished_at = utcnow()
                s.add(rec)
                fixed.append(int(rec.id))
    return fixed


scheduler.on_startup(recover_interrupted)  # runs left "running" by a dead process → interrupted
