"""Reading and writing walk-forward state, and the dataclasses pages and the CLI receive.

Status of an analysis: ``created`` → ``running`` → ``completed`` | ``failed``;
``interrupted`` when the process running it died (owner pid gone or reused, checked as for
evolution runs) or it was stopped by Ctrl-C. Every status but ``running`` can be run again:
finished windows (genes stored) are kept, the others are evolved (an evolution run killed
mid-window continues from its last generation), then the analysis stitches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from engine import processes
from engine.db import read_scope, session_scope
from engine.errors import StratLabError
from engine.tables import utcnow
from engine.walkforward.tables import WalkForwardAnalysis, WalkForwardWindow


class AnalysisNotFound(StratLabError):
    """No walk-forward analysis with that id."""


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def clean(obj: Any) -> Any:
    """Strict-JSON copy: non-finite floats → None (PostgreSQL's JSON rejects NaN)."""
    if isinstance(obj, float):
        return obj if obj - obj == 0.0 else None
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj


@dataclass
class WindowInfo:
    """One window pair: its bars, its evolution run, the chosen genes and the metrics."""

    window: int
    is_start: datetime
    is_end: datetime
    is_bars: int
    oos_start: datetime
    oos_end: datetime
    oos_bars: int
    seed: int
    evolution_run_id: int | None
    genes: dict[str, Any] | None
    fitness: float | None
    in_sample: dict[str, Any] | None
    out_of_sample: dict[str, Any] | None
    finished: bool

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("is_start", "is_end", "oos_start", "oos_end"):
            d[k] = _iso(d[k])
        return d


@dataclass
class AnalysisInfo:
    """A walk-forward analysis as pages list it (poll ``windows_done`` and ``status``)."""

    id: int
    name: str
    symbol: str
    status: str
    n_windows: int
    windows_done: int
    seconds: float
    config: dict[str, Any]
    result: dict[str, Any]
    error: str
    created_at: datetime
    updated_at: datetime
    windows: list[WindowInfo] = field(default_factory=list)

    @property
    def progress(self) -> float:
        """Fraction of the windows evolved (0..1)."""
        return min(1.0, self.windows_done / self.n_windows) if self.n_windows else 1.0

    @property
    def can_run(self) -> bool:
        """Whether :func:`engine.walkforward.resume` / ``start_background`` accept it now."""
        return self.status != "running"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"], d["updated_at"] = _iso(self.created_at), _iso(self.updated_at)
        d["windows"] = [w.to_dict() for w in self.windows]
        return d


def window_info(w: WalkForwardWindow) -> WindowInfo:
    return WindowInfo(
        window=w.window_index, is_start=w.is_start, is_end=w.is_end, is_bars=w.is_hi - w.is_lo,
        oos_start=w.oos_start, oos_end=w.oos_end, oos_bars=w.oos_hi - w.oos_lo, seed=w.seed,
        evolution_run_id=w.evolution_run_id, genes=w.params, fitness=w.fitness,
        in_sample=w.in_sample, out_of_sample=w.out_of_sample, finished=w.finished_at is not None)


def analysis_info(row: WalkForwardAnalysis, windows: list[WalkForwardWindow]) -> AnalysisInfo:
    return AnalysisInfo(
        id=int(row.id), name=row.name, symbol=row.symbol, status=row.status,
        n_windows=row.n_windows, windows_done=row.windows_done, seconds=row.seconds,
        config=dict(row.config or {}), result=dict(row.result or {}), error=row.error,
        created_at=row.created_at, updated_at=row.updated_at,
        windows=[window_info(w) for w in windows])


# ------------------------------------------------------------------------ analyses
def create_rows(config: dict[str, Any], *, name: str, symbol: str, fingerprint: str,
                windows: list[dict[str, Any]]) -> int:
    """The analysis and its window rows, in one transaction."""
    with session_scope() as s:
        row = WalkForwardAnalysis(config=config, name=name, symbol=symbol,
                                  n_windows=len(windows), data_fingerprint=fingerprint)
        s.add(row)
        s.flush()
        for w in windows:
            s.add(WalkForwardWindow(analysis_id=int(row.id), **w))
        return int(row.id)


def set_window_runs(analysis_id: int, run_ids: dict[int, int]) -> None:
    with session_scope() as s:
        for k, run_id in run_ids.items():
            s.execute(update(WalkForwardWindow)
                      .where(WalkForwardWindow.analysis_id == analysis_id,
                             WalkForwardWindow.window_index == k)
                      .values(evolution_run_id=run_id))


def _get(s, analysis_id: int) -> WalkForwardAnalysis:
    row = s.get(WalkForwardAnalysis, analysis_id)
    if row is None:
        raise AnalysisNotFound(f"no walk-forward analysis {analysis_id}; see "
                               "`python -m engine walkforward --list`")
    return row


def get_row(analysis_id: int) -> WalkForwardAnalysis:
    with read_scope() as s:
        return _get(s, analysis_id)


def window_rows(analysis_id: int) -> list[WalkForwardWindow]:
    with read_scope() as s:
        return list(s.exec(select(WalkForwardWindow)
                           .where(WalkForwardWindow.analysis_id == analysis_id)
                           .order_by(col(WalkForwardWindow.window_index))).all())


def window_row(analysis_id: int, k: int) -> WalkForwardWindow:
    with read_scope() as s:
        w = s.exec(select(WalkForwardWindow).where(
            WalkForwardWindow.analysis_id == analysis_id,
            WalkForwardWindow.window_index == k)).first()
    if w is None:
        raise AnalysisNotFound(f"walk-forward analysis {analysis_id} has no window {k}")
    return w


def list_rows() -> list[WalkForwardAnalysis]:
    with read_scope() as s:
        return list(s.exec(select(WalkForwardAnalysis)
                           .order_by(col(WalkForwardAnalysis.id).desc())).all())


def recover_interrupted() -> list[int]:
    """Mark analyses left ``running`` by a dead process as ``interrupted`` (resumable)."""
    fixed = []
    with session_scope() as s:
        rows = s.exec(select(WalkForwardAnalysis)
                      .where(WalkForwardAnalysis.status == "running")).all()
        for row in rows:
            if not processes.owner_alive(row.owner_pid, row.owner_host, row.owner_started):
                row.status, row.owner_pid, row.updated_at = "interrupted", None, utcnow()
                s.add(row)
                fixed.append(int(row.id))
    return fixed


def claim(analysis_id: int) -> None:
    """Mark the analysis ``running`` by this process (refused while a live one runs it)."""
    me = processes.current_owner()
    with session_scope() as s:
        row = _get(s, analysis_id)
        if row.status == "running" and processes.owner_alive(
                row.owner_pid, row.owner_host, row.owner_started):
            raise StratLabError(f"walk-forward analysis {analysis_id} is already running "
                                f"(pid {row.owner_pid}); wait for it to finish")
        row.status, row.error = "running", ""
        row.owner_pid, row.owner_host, row.owner_started = me.pid, me.host, me.started
        row.updated_at = utcnow()
        s.add(row)


def finish(analysis_id: int, status: str, *, seconds: float, error: str = "",
           result: dict[str, Any] | None = None) -> None:
    with session_scope() as s:
        row = _get(s, analysis_id)
        row.status, row.error, row.owner_pid = status, error, None
        row.seconds = (row.seconds or 0.0) + seconds
        if result is not None:
            row.result = clean(result)
        row.updated_at = utcnow()
        s.add(row)


def finish_window(analysis_id: int, k: int, *, params: dict[str, Any], fitness: float | None,
                  in_sample: dict[str, Any]) -> None:
    """Store window ``k``'s chosen genes (the window is finished) and count it done."""
    now = utcnow()
    with session_scope() as s:
        s.execute(update(WalkForwardWindow)
                  .where(WalkForwardWindow.analysis_id == analysis_id,
                         WalkForwardWindow.window_index == k)
                  .values(params=clean(params), fitness=clean(fitness),
                          in_sample=clean(in_sample), finished_at=now))
        done = len(s.exec(select(WalkForwardWindow.id).where(
            WalkForwardWindow.analysis_id == analysis_id,
            col(WalkForwardWindow.finished_at).is_not(None))).all())
        s.execute(update(WalkForwardAnalysis).where(WalkForwardAnalysis.id == analysis_id)
                  .values(windows_done=done, updated_at=now))


def store_out_of_sample(analysis_id: int, metrics: dict[int, dict[str, Any]]) -> None:
    with session_scope() as s:
        for k, m in metrics.items():
            s.execute(update(WalkForwardWindow)
                      .where(WalkForwardWindow.analysis_id == analysis_id,
                             WalkForwardWindow.window_index == k)
                      .values(out_of_sample=clean(m)))
