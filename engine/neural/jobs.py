"""Background training: a scheduler job that runs training in a subprocess.

``start_training_job(cfg)`` records a ``training_runs`` row (``queued``) and schedules
``engine.neural.jobs:training_job`` on the shared scheduler with job id
``training-<run id>``. The job starts ``python -m engine train --progress-run <id> --json``
and waits for it: the subprocess (:func:`execute_run`) reads the configuration from the
row, trains, writes a ``training_epochs`` row per epoch and finally the result (or the error)
on the run row. A crash of the subprocess — out of memory, a CUDA fault — cannot take the
app down; the job then marks the run ``failed`` with the end of its stderr. Runs left
``running`` by a process that no longer exists are marked ``interrupted`` (on scheduler
start and whenever runs are read).

The page polls :func:`get_training_run` inside ``st.fragment(run_every=…)``.

Registering the trained file is the registry's job, and this package never imports the
registry: ``engine.registry`` installs its ``train_version`` with :func:`set_trainer` when it
is imported (as every process that opens the database does, ``init_db`` importing
``engine.registry.tables``). A run that asks to be registered without it fails with a clear
error rather than silently producing an unregistered model.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from engine import scheduler
from engine.config import PROJECT_ROOT, get_settings
from engine.db import session_scope
from engine.errors import StratLabError
from engine.neural.config import TrainConfig
from engine.neural.tables import ACTIVE, TrainingEpoch, TrainingRun
from engine.paths import resolve_stored, to_stored
from engine.processes import current_owner, owner_alive
from engine.tables import utcnow

JOB_FUNC = "engine.neural.jobs:training_job"

#: ``train(cfg, *, on_epoch, created_by, parent_version, relationship, register)`` → a
#: ``TrainResult``; set by the registry (see the module docstring).
_trainer: Callable[..., Any] | None = None


def set_trainer(train: Callable[..., Any]) -> None:
    """Install the function that trains *and registers* a run (``engine.registry`` does)."""
    global _trainer
    _trainer = train


def _train(cfg: TrainConfig, *, register: bool, train: Callable[..., Any] | None,
           **kwargs: Any) -> Any:
    train = train or _trainer
    if train is not None:
        return train(cfg, register=register, **kwargs)
    if register:
        raise StratLabError("training run asks to be registered, but the model registry is "
                            "not loaded in this process; import engine.registry first (or "
                            "start the run with register=False)")
    from engine.neural.pipeline import train_model

    return train_model(cfg, on_epoch=kwargs.get("on_epoch"))


def _stored_result(doc: dict[str, Any]) -> dict[str, Any]:
    """The result as stored: its model file path relative to the data directory."""
    if doc.get("file_path"):
        doc["file_path"] = to_stored(doc["file_path"], get_settings().data_dir)
    return doc


def _read_result(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc and doc.get("file_path"):
        doc = {**doc, "file_path": str(resolve_stored(doc["file_path"],
                                                      get_settings().data_dir))}
    return doc


def job_id_for(run_id: int) -> str:
    return f"training-{run_id}"


def _run_id(ref: int | str) -> int:
    if isinstance(ref, str) and ref.startswith("training-"):
        ref = ref.removeprefix("training-")
    try:
        return int(ref)
    except (TypeError, ValueError):
        raise StratLabError(f"{ref!r} is not a training run id or job id "
                            "(e.g. 12 or 'training-12')") from None


def _clean(obj: Any) -> Any:
    """JSON-safe: non-finite floats become None (PostgreSQL's JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


# ------------------------------------------------------------------------ process identity

def _alive(row: TrainingRun) -> bool:
    if row.pid is None:
        return row.status == "queued"  # not started yet: its job may still be pending
    return owner_alive(row.pid, row.host, row.proc_started)


def recover_interrupted() -> list[int]:
    """Mark ``running`` runs whose process is gone as ``interrupted``; return their ids."""
    fixed = []
    with session_scope() as s:
        for row in s.exec(select(TrainingRun).where(TrainingRun.status == "running")).all():
            if not _alive(row):
                row.status = "interrupted"
                row.error = row.error or "the training process ended without finishing"
                row.finished_at = row.updated_at = utcnow()
                s.add(row)
                fixed.append(int(row.id))
    return fixed


scheduler.on_startup(recover_interrupted)  # runs left "running" by a dead process → interrupted


# ----------------------------------------------------------------------------- public API

@dataclass
class TrainingRunInfo:
    """A training run as the page and the CLI see it."""

    id: int
    job_id: str | None
    status: str
    symbol: str
    model_type: str
    config: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    device: str | None
    epochs_total: int
    epochs_done: int
    best_epoch: int
    samples_per_second: float | None
    version_id: str | None
    error: str
    requested_action: str | None
    epochs: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("created_at", "started_at", "finished_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


def _info(row: TrainingRun, epochs: list[TrainingEpoch] | None, full: bool) -> TrainingRunInfo:
    return TrainingRunInfo(
        id=int(row.id), job_id=row.job_id, status=row.status, symbol=row.symbol,
        model_type=row.model_type, config=dict(row.config or {}), created_at=row.created_at,
        started_at=row.started_at, finished_at=row.finished_at, device=row.device,
        epochs_total=row.epochs_total, epochs_done=row.epochs_done, best_epoch=row.best_epoch,
        samples_per_second=row.samples_per_second, version_id=row.version_id,
        error=row.error or "", requested_action=row.requested_action,
        epochs=[{"epoch": e.epoch, "train_loss": e.train_loss, "val_loss": e.val_loss,
                 "train_acc": e.train_acc, "val_acc": e.val_acc, "seconds": e.seconds,
                 "samples_per_second": e.samples_per_second} for e in (epochs or [])],
        result=_read_result(row.result) if full else None,
    )


def create_training_run(cfg: TrainConfig, *, register: bool = True, created_by: str = "user",
                        parent_version: str | None = None, relationship: str = "trained"
                        ) -> int:
    """Record a queued run for ``cfg``; return its id (the job or CLI then runs it)."""
    with session_scope() as s:
        row = TrainingRun(symbol=cfg.symbol, model_type=cfg.model_type,
                          config=_clean(cfg.model_dump()), register_model=register,
                          created_by=created_by, parent_version=parent_version,
                          relationship=relationship, epochs_total=cfg.epochs)
        s.add(row)
        s.flush()
        return int(row.id)


def start_training_job(cfg: TrainConfig, *, register: bool = True, created_by: str = "user",
                       parent_version: str | None = None, relationship: str = "trained",
                       sched: Any | None = None) -> str:
    """Train ``cfg`` in the background (a subprocess started by a scheduler job).

    Returns the job id ``training-<run id>``; follow it with :func:`get_training_run`.
    """
    run_id = create_training_run(cfg, register=register, created_by=created_by,
                                 parent_version=parent_version, relationship=relationship)
    jid = job_id_for(run_id)
    with session_scope() as s:
        row = s.get(TrainingRun, run_id)
        row.job_id = jid
        s.add(row)
    return schedule_run(run_id, sched=sched)


def schedule_run(run_id: int, *, sched: Any | None = None) -> str:
    """Put the job of an existing queued run on the shared scheduler (a seam for tests)."""
    return scheduler.schedule(JOB_FUNC, job_id=job_id_for(run_id), args=[run_id],
                              name=f"training run {run_id}", scheduler=sched,
                              misfire_grace_time=24 * 3600)


def get_training_run(run_id: int | str) -> TrainingRunInfo:
    """One run with its per-epoch rows and (once completed) its full result."""
    rid = _run_id(run_id)
    recover_interrupted()
    with session_scope() as s:
        row = s.get(TrainingRun, rid)
        if row is None:
            raise StratLabError(f"no training run {rid}; see the list on the Neural Models page")
        epochs = s.exec(select(TrainingEpoch).where(TrainingEpoch.run_id == rid)
                        .order_by(col(TrainingEpoch.epoch))).all()
        return _info(row, list(epochs), True)


def list_training_runs(limit: int = 50) -> list[TrainingRunInfo]:
    """The newest runs first (without epochs and results; fetch one for those)."""
    recover_interrupted()
    with session_scope() as s:
        rows = s.exec(select(TrainingRun).order_by(col(TrainingRun.id).desc())
                      .limit(limit)).all()
        return [_info(r, None, False) for r in rows]


def request_stop(run_id: int | str) -> None:
    """Stop a run: a queued one at once, a running one after the epoch in flight (the best
    weights so far are kept, evaluated and registered)."""
    rid = _run_id(run_id)
    with session_scope() as s:
        row = s.get(TrainingRun, rid)
        if row is None:
            raise StratLabError(f"no training run {rid}")
        if row.status == "queued":
            row.status, row.finished_at = "stopped", utcnow()
        elif row.status == "running":
            row.requested_action = "stop"
        else:
            raise StratLabError(f"training run {rid} is {row.status}; only a queued or "
                                "running run can be stopped")
        row.updated_at = utcnow()
        s.add(row)


# ------------------------------------------------------------------------- the job itself

def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(PROJECT_ROOT)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in parts:
        env["PYTHONPATH"] = os.pathsep.join([root, *parts])
    return env


def training_job(run_id: int) -> dict[str, Any]:
    """The scheduled job: run ``python -m engine train --progress-run <id>`` and wait."""
    cmd = [sys.executable, "-m", "engine", "train", "--progress-run", str(run_id), "--json"]
    proc = subprocess.run(cmd, cwd=str(PROJECT_ROOT), env=_subprocess_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    with session_scope() as s:
        row = s.get(TrainingRun, run_id)
        if row is not None and row.status in ACTIVE:
            tail = (proc.stderr or "").strip()[-2000:]
            row.status = "failed"
            row.error = (f"the training process exited with status {proc.returncode}"
                         + (f": {tail}" if tail else ""))
            row.finished_at = row.updated_at = utcnow()
            s.add(row)
        status = row.status if row is not None else "missing"
        version = row.version_id if row is not None else None
    return {"run_id": run_id, "status": status, "version_id": version,
            "returncode": proc.returncode}


def _claim(run_id: int) -> TrainingRun:
    with session_scope() as s:
        row = s.get(TrainingRun, run_id)
        if row is None:
            raise StratLabError(f"no training run {run_id}")
        if row.status == "running" and _alive(row) and row.pid != os.getpid():
            raise StratLabError(f"training run {run_id} is already running (pid {row.pid})")
        if row.status not in ("queued", "running", "interrupted"):
            raise StratLabError(f"training run {run_id} is {row.status}; start a new run")
        row.status, row.pid, row.host = "running", os.getpid(), socket.gethostname()
        row.proc_started = current_owner().started
        row.started_at = row.updated_at = utcnow()
        row.error = ""
        s.add(row)
        return row


def execute_run(run_id: int, *, train: Callable[..., Any] | None = None):
    """Run a recorded training run in this process, writing progress rows (the subprocess
    side of :func:`training_job`; the CLI's ``train --progress-run``). ``train`` trains and
    registers (the CLI passes ``engine.registry.train_version``; default: the trainer
    installed with :func:`set_trainer`)."""
    from engine.neural.config import make_config
    from engine.neural.training import resolve_device

    row = _claim(run_id)
    try:
        cfg = make_config(**row.config)
        device = str(resolve_device(cfg.device))
        with session_scope() as s:
            r = s.get(TrainingRun, run_id)
            r.device = device
            s.add(r)

        def on_epoch(rec: dict[str, Any]) -> bool:
            with session_scope() as s:
                s.add(TrainingEpoch(run_id=run_id, **_clean({
                    k: rec[k] for k in ("epoch", "train_loss", "val_loss", "train_acc",
                                        "val_acc", "seconds", "samples_per_second")})))
                r = s.get(TrainingRun, run_id)
                r.epochs_done = int(rec["epoch"])
                r.best_epoch = int(rec.get("best_epoch") or 0)
                r.samples_per_second = _clean(float(rec["samples_per_second"]))
                r.updated_at = utcnow()
                s.add(r)
                return r.requested_action == "stop"

        result = _train(cfg, on_epoch=on_epoch, created_by=row.created_by,
                        parent_version=row.parent_version, relationship=row.relationship,
                        register=row.register_model, train=train)
    except BaseException as exc:
        msg = str(exc) if isinstance(exc, StratLabError) else f"{type(exc).__name__}: {exc}"
        with session_scope() as s:
            r = s.get(TrainingRun, run_id)
            r.status, r.error = "failed", msg[:4000]
            r.finished_at = r.updated_at = utcnow()
            s.add(r)
        raise
    with session_scope() as s:
        r = s.get(TrainingRun, run_id)
        r.status = "stopped" if r.requested_action == "stop" else "completed"
        r.result = _stored_result(_clean(result.to_dict()))
        r.version_id = result.version_id
        r.samples_per_second = _clean(result.samples_per_second)
        r.epochs_done = result.epochs_run
        r.best_epoch = result.best_epoch
        r.finished_at = r.updated_at = utcnow()
        s.add(r)
    return result
