"""Reading and writing evolution state, and the dataclasses pages and the CLI receive.

Status of a run: ``created`` → ``running`` → ``completed`` | ``paused`` | ``stopped`` |
``failed``; ``stopping`` while a stop request waits for the generation in flight;
``interrupted`` when the process that was running it died (detected on scheduler start-up,
CLI start and whenever runs are listed): owner pid gone, or reused by another process (its
creation time differs). Every state but ``running``/``stopping`` can be evolved further.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete
from sqlmodel import col, select

from engine import processes
from engine.db import encode_json, read_scope, session_scope
from engine.errors import StratLabError
from engine.evolution.info import (  # noqa: F401  (re-exported)
    GenerationStats,
    IndividualInfo,
    RunInfo,
    individual_info,
    run_info,
)
from engine.evolution.tables import (
    EvolutionCheckpoint,
    EvolutionGeneration,
    EvolutionIndividual,
    EvolutionRun,
)
from engine.processes import current_owner
from engine.statements import (
    Statement,
    delete_where,
    insert_rows,
    select_where,
    update_where,
)
from engine.tables import utcnow
from engine.writer import Writer

ACTIVE = ("running", "stopping")


class RunNotFound(StratLabError):
    """No evolution run with that id."""


def clean(obj: Any) -> Any:
    """Strict-JSON copy: non-finite floats → None (PostgreSQL's JSON rejects NaN)."""
    t = type(obj)
    if t is float:
        return obj if obj - obj == 0.0 else None
    if t is dict:
        return {k: (v if type(v) is not float or v - v == 0.0 else None)
                if type(v) in _SCALARS else clean(v) for k, v in obj.items()}
    if t is list or t is tuple:
        return [clean(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj


_SCALARS = {float, int, str, bool, type(None)}


# ------------------------------------------------------------------------ runs
def create_run_row(config: dict[str, Any], name: str = "") -> int:
    with session_scope() as s:
        row = EvolutionRun(config=config, name=name,
                           target_generations=config.get("generations"))
        s.add(row)
        s.flush()
        return int(row.id)


def _get(s, run_id: int) -> EvolutionRun:
    row = s.get(EvolutionRun, run_id)
    if row is None:
        raise RunNotFound(f"no evolution run {run_id}; see `python -m engine evolution list`")
    return row


def get_run_row(run_id: int) -> EvolutionRun:
    with read_scope() as s:
        return _get(s, run_id)


def list_run_rows() -> list[EvolutionRun]:
    with read_scope() as s:
        return list(s.exec(select(EvolutionRun).order_by(col(EvolutionRun.id).desc())).all())


def _me() -> tuple[int, str, float | None]:
    me = current_owner()
    return me.pid, me.host, me.started


def owner_alive(row: EvolutionRun) -> bool:
    """Whether the process recorded as running ``row`` still exists (same host only)."""
    return processes.owner_alive(row.owner_pid, row.owner_host, row.owner_started)


def recover_interrupted() -> list[int]:
    """Mark runs left running/stopping by a dead process as ``interrupted`` (resumable)."""
    fixed = []
    with session_scope() as s:
        rows = s.exec(select(EvolutionRun).where(col(EvolutionRun.status).in_(ACTIVE))).all()
        for row in rows:
            if not owner_alive(row):
                row.status = "interrupted"
                row.requested_action = None
                row.owner_pid = None
                row.updated_at = utcnow()
                s.add(row)
                fixed.append(int(row.id))
    return fixed


def claim(run_id: int, target: int) -> EvolutionRun:
    """Mark the run ``running`` by this process (refused when a live process runs it)."""
    pid, host, started = _me()
    with session_scope() as s:
        row = _get(s, run_id)
        if row.status in ACTIVE and owner_alive(row):
            raise StratLabError(
                f"evolution run {run_id} is already running (pid {row.owner_pid}); "
                f"pause or stop it first (`request_pause({run_id})`)"
            )
        row.status = "running"
        row.owner_pid, row.owner_host, row.owner_started = pid, host, started
        row.target_generations = target
        row.error = ""
        if row.requested_action == "stop":
            row.requested_action = None
        row.updated_at = utcnow()
        s.add(row)
        return row


def requested_action(run_id: int) -> str | None:
    """The pause/stop request waiting for the run (one column, read without a write lock)."""
    with read_scope() as s:
        found = s.exec(select(EvolutionRun.id, EvolutionRun.requested_action)
                       .where(EvolutionRun.id == run_id)).first()
    if found is None:
        raise RunNotFound(f"no evolution run {run_id}; see `python -m engine evolution list`")
    return found[1]


def finish(run_id: int, status: str, error: str = "", seconds: float = 0.0) -> None:
    with session_scope() as s:
        row = _get(s, run_id)
        row.status = status
        row.requested_action = None
        row.owner_pid = None
        row.error = error
        row.seconds = (row.seconds or 0.0) + seconds
        row.updated_at = utcnow()
        s.add(row)


#: How many requests this process has recorded (:func:`request_epoch`).
_requests = 0


def request_epoch() -> int:
    """A number that changes whenever this process records a pause/stop request: a running
    loop re-reads its request after a progress callback only when the callback (or another
    thread) made one — a request from another process is read by the next commit."""
    return _requests


def set_request(run_id: int, action: str | None, *, allowed: tuple[str, ...],
                status: str | None = None) -> EvolutionRun:
    """Record a pause/stop request (or change the status of an idle run)."""
    global _requests
    with session_scope() as s:
        row = _get(s, run_id)
        if row.status not in allowed:
            raise StratLabError(
                f"evolution run {run_id} is {row.status}; this needs a run that is "
                f"{' or '.join(allowed)}"
            )
        row.requested_action = action
        if status is not None:
            row.status = status
        row.updated_at = utcnow()
        s.add(row)
    _requests += 1  # after the commit: a loop that sees the new epoch reads the request
    return row


# ------------------------------------------------------------------------ generations
def commit_generation(run_id: int, *, generation: int, stats: list[dict[str, Any]],
                      individuals: list[dict[str, Any]], checkpoint: dict[str, Any],
                      run_updates: dict[str, Any], writer: Writer | None = None
                      ) -> str | None:
    """Write one generation — statistics, individuals, checkpoint, run row — atomically.

    ``individuals`` are rows ready to store: finite numbers, JSON columns as documents or
    :class:`~engine.db.EncodedJSON` (the runner encodes each individual's once). ``writer``:
    the connection the run holds (:class:`engine.writer.Writer`; default: one for this
    commit). Returns the run's pending pause/stop request, read in the same transaction."""
    with Writer() if writer is None else nullcontext(writer) as w:
        return w.transaction(generation_statements(
            run_id, w.dialect, generation=generation, stats=stats,
            individuals=individuals, checkpoint=checkpoint, run_updates=run_updates))


def generation_statements(run_id: int, dialect: Any, *, generation: int,
                          stats: list[dict[str, Any]], individuals: list[dict[str, Any]],
                          checkpoint: dict[str, Any], run_updates: dict[str, Any]
                          ) -> list[Statement]:
    """The statements of :func:`commit_generation`, in order, for ``dialect`` (run them in
    one transaction; the last reads the run's pending pause/stop request)."""
    now = utcnow()
    out: list[Statement] = []
    if stats:
        out.append(insert_rows(_GENERATIONS, [
            clean({**r, "run_id": run_id, "generation": generation}) | {"created_at": now}
            for r in stats], dialect))
    if individuals:  # one executemany; rows come clean, their JSON encoded (EncodedJSON)
        extra = {"run_id": run_id, "generation": generation, "created_at": now}
        out.append(insert_rows(_INDIVIDUALS, [r | extra for r in individuals], dialect))
    out.append(delete_where(_CHECKPOINTS, "run_id", run_id, dialect))
    out.append(insert_rows(_CHECKPOINTS, [{
        "run_id": run_id, "generation": generation, "state": encode_json(checkpoint),
        "created_at": now}], dialect))
    values = {k: encode_json(v) if type(v) is dict else clean(v)
              for k, v in run_updates.items()}
    values.update(generations_done=generation, updated_at=now)
    out.append(update_where(_RUNS, values, "id", run_id, dialect))
    # the pause/stop request as of this commit, so the loop needs no read of its own
    out.append(select_where(_RUNS, "requested_action", "id", run_id, dialect))
    return out


_RUNS = EvolutionRun.__table__
_GENERATIONS = EvolutionGeneration.__table__
_INDIVIDUALS = EvolutionIndividual.__table__
_CHECKPOINTS = EvolutionCheckpoint.__table__


def load_checkpoint(run_id: int) -> dict[str, Any] | None:
    with session_scope() as s:
        row = s.exec(select(EvolutionCheckpoint).where(EvolutionCheckpoint.run_id == run_id)
                     .order_by(col(EvolutionCheckpoint.generation).desc())).first()
        return dict(row.state) if row is not None else None


def individuals_of(run_id: int, generation: int | None = None) -> list[EvolutionIndividual]:
    """Rows of one generation (default: the latest stored), island then uid order."""
    with session_scope() as s:
        if generation is None:
            generation = s.exec(select(EvolutionIndividual.generation)
                                .where(EvolutionIndividual.run_id == run_id)
                                .order_by(col(EvolutionIndividual.generation).desc())).first()
            if generation is None:
                return []
        q = (select(EvolutionIndividual)
             .where(EvolutionIndividual.run_id == run_id,
                    EvolutionIndividual.generation == generation)
             .order_by(col(EvolutionIndividual.id)))
        return list(s.exec(q).all())


def all_evaluated(run_id: int) -> list[EvolutionIndividual]:
    """The first row of every distinct uid (each evaluated genome once)."""
    with session_scope() as s:
        q = (select(EvolutionIndividual).where(EvolutionIndividual.run_id == run_id,
                                               EvolutionIndividual.evaluated == True)  # noqa: E712
             .order_by(col(EvolutionIndividual.id)))
        seen: set[int] = set()
        out = []
        for r in s.exec(q).all():
            if r.uid not in seen:
                seen.add(r.uid)
                out.append(r)
        return out


def individual_row(run_id: int, uid: int) -> EvolutionIndividual:
    with session_scope() as s:
        row = s.exec(select(EvolutionIndividual)
                     .where(EvolutionIndividual.run_id == run_id, EvolutionIndividual.uid == uid)
                     .order_by(col(EvolutionIndividual.generation).desc())).first()
    if row is None:
        raise StratLabError(
            f"run {run_id} has no individual {uid}; list them with "
            f"`python -m engine evolution population {run_id}` or the Evolution page"
        )
    return row


def rows_by_uid(run_id: int, uids: list[int]) -> dict[int, EvolutionIndividual]:
    """Latest row of each uid (to restore metrics of survivors on resume)."""
    if not uids:
        return {}
    with session_scope() as s:
        q = (select(EvolutionIndividual)
             .where(EvolutionIndividual.run_id == run_id,
                    col(EvolutionIndividual.uid).in_(uids))
             .order_by(col(EvolutionIndividual.generation)))
        return {r.uid: r for r in s.exec(q).all()}


def fitness_failures(run_id: int) -> dict[int, dict[str, Any]]:
    """Per generation, the individuals evaluated in it whose fitness function raised:
    ``{generation: {"count": n, "error": the first error}}`` (generations without a failure
    are absent). The errors are kept in each row's ``objectives["fitness_error"]``."""
    out: dict[int, dict[str, Any]] = {}
    with read_scope() as s:
        # only rows whose JSON text names the key are decoded (a run's every row would be)
        q = (select(EvolutionIndividual.generation, EvolutionIndividual.objectives)
             .where(EvolutionIndividual.run_id == run_id,
                    EvolutionIndividual.evaluated == True,  # noqa: E712
                    sa.cast(EvolutionIndividual.objectives, sa.Text)
                    .like('%"fitness_error"%'))
             .order_by(col(EvolutionIndividual.id)))
        for generation, objectives in s.exec(q).all():
            error = (objectives or {}).get("fitness_error")
            if error:
                slot = out.setdefault(int(generation), {"count": 0, "error": error})
                slot["count"] += 1
    return out


def generation_rows(run_id: int) -> list[EvolutionGeneration]:
    with read_scope() as s:
        q = (select(EvolutionGeneration).where(EvolutionGeneration.run_id == run_id)
             .order_by(col(EvolutionGeneration.generation), col(EvolutionGeneration.island)))
        return list(s.exec(q).all())


def history_rows(run_id: int) -> list[tuple[int, float, float, float, float]]:
    """``(generation, best, mean, worst, diversity)`` of the whole population (island −1),
    generation by generation: the summary's history, read without building ORM objects."""
    g = _GENERATIONS.c
    with read_scope() as s:
        return [tuple(r) for r in s.execute(
            sa.select(g.generation, g.best, g.mean, g.worst, g.diversity)
            .where(g.run_id == run_id, g.island == -1).order_by(g.generation))]


def clear_run(run_id: int) -> None:
    """Delete a run's generations, individuals and checkpoint and zero its counters."""
    with session_scope() as s:
        row = _get(s, run_id)
        if row.status in ACTIVE and owner_alive(row):
            raise StratLabError(f"evolution run {run_id} is running; stop it before resetting")
        for t in (EvolutionGeneration, EvolutionIndividual, EvolutionCheckpoint):
            s.execute(delete(t).where(t.run_id == run_id))
        row.status, row.requested_action, row.error = "created", None, ""
        row.generations_done = row.evaluations = 0
        row.seconds = 0.0
        row.best_fitness = row.mean_fitness = row.best_uid = None
        row.best, row.split = {}, {}
        row.in_sample_end = row.out_of_sample_start = None
        row.owner_pid = None
        row.updated_at = utcnow()
        s.add(row)
