"""Saved backtests: every run can be listed and reopened.

A run stores its inputs (symbols, strategy, parameters, settings, date window), a
fingerprint of the data it saw, its metrics and trades. Reopening re-runs it on the current
data (equity curves are cheap to recompute and expensive to store) and says whether the
data changed since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from engine.db import read_scope, session_scope
from engine.errors import StratLabError
from engine.tables import BacktestRun


@dataclass(frozen=True)
class RunSummary:
    id: int
    created_at: datetime
    symbols: str
    strategy: str
    params: dict[str, Any]
    total_return_pct: float | None
    sharpe: float | None
    n_trades: int | None
    label: str
    #: The run's execution settings and date window (the saved-run table lists them).
    settings: dict[str, Any] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None


def save_run(result, symbols: str, *, start=None, end=None, fingerprint: str = "",
             label: str = "") -> int:
    """Store a :class:`~engine.backtest.runner.BacktestResult` (or portfolio result)."""
    doc = result.to_dict()
    row = BacktestRun(
        symbols=symbols,
        strategy=result.strategy,
        params=dict(result.params),
        settings=doc["settings"],
        start=start,
        end=end,
        data_fingerprint=fingerprint,
        metrics=_json_safe(doc["metrics"]),
        trades=_json_safe(doc["trades"]),
        label=label,
    )
    with session_scope() as s:
        s.add(row)
        s.flush()
        return int(row.id)


def list_runs(limit: int = 50) -> list[RunSummary]:
    """The most recent runs first."""
    with read_scope() as s:
        rows = s.exec(
            select(BacktestRun).order_by(col(BacktestRun.created_at).desc(),
                                         col(BacktestRun.id).desc()).limit(limit)
        ).all()
        return [
            RunSummary(r.id, r.created_at, r.symbols, r.strategy, r.params,
                       r.metrics.get("total_return_pct"), r.metrics.get("sharpe"),
                       r.metrics.get("n_trades"), r.label, dict(r.settings or {}),
                       r.start, r.end)
            for r in rows
        ]


def get_run(run_id: int) -> BacktestRun:
    """One saved run, or a clear error."""
    with read_scope() as s:
        row = s.get(BacktestRun, int(run_id))
        if row is None:
            raise StratLabError(f"no saved backtest with id {run_id}; list them with "
                                "`python -m engine backtest --history`")
        return row


def _json_safe(obj: Any) -> Any:
    import math

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj
