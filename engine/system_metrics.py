"""The seed's system metrics, from the records the engine already keeps.

Over the last ``hours`` (default 24) before ``now``:

- **strategies evaluated per hour**: fresh backtests of evolution — the ``evaluations`` of
  each generation's all-islands row (``evolution_generations``, island −1) written in the
  window, divided by the window's hours (survivors carried without a new backtest are not
  counted);
- **generations per day**: those generation rows, per 24 h of window;
- **retrains per day**: retrains that finished in the window (``retrain_records`` with a
  ``finished_at``: deployed, kept, failed or interrupted), per 24 h;
- **job latency**: how long each scheduled job run took (``job_runs``: ``finished_at −
  started_at`` of the runs that started in the window and finished, success or error) —
  count, mean, median, 95th percentile (nearest rank) and maximum in seconds, overall and
  per job id; missed runs and runs still going are counted apart;
- **scheduler uptime**: seconds since this process's scheduler started
  (:func:`engine.scheduler.started_at`); ``None`` when no scheduler runs in this process —
  the command line never starts one, so only the app (System page) shows an uptime.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from engine.errors import ParameterError


@dataclass(frozen=True)
class Latency:
    """Durations of finished job runs, in seconds."""

    runs: int
    mean_s: float | None
    median_s: float | None
    p95_s: float | None
    max_s: float | None

    @classmethod
    def of(cls, durations: list[float]) -> Latency:
        if not durations:
            return cls(0, None, None, None, None)
        d = sorted(durations)
        n = len(d)
        median = d[n // 2] if n % 2 else (d[n // 2 - 1] + d[n // 2]) / 2.0
        p95 = d[max(0, math.ceil(0.95 * n) - 1)]  # nearest rank
        return cls(n, sum(d) / n, median, p95, d[-1])


@dataclass(frozen=True)
class SystemMetrics:
    """What the System page's metrics section shows (``system metrics --json``)."""

    window_hours: float
    since: datetime
    until: datetime
    strategies_evaluated: int
    strategies_evaluated_per_hour: float
    generations: int
    generations_per_day: float
    retrains: int
    retrains_per_day: float
    scheduler_running: bool
    scheduler_started_at: datetime | None
    scheduler_uptime_s: float | None
    job_latency: Latency
    job_errors: int
    job_missed: int
    jobs_running: int
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("since", "until", "scheduler_started_at"):
            d[k] = d[k].isoformat() if d[k] is not None else None
        return d


def system_metrics(hours: float = 24.0, *, now: datetime | None = None,
                   started_at: datetime | None = None) -> SystemMetrics:
    """The metrics over the ``hours`` before ``now`` (naive UTC; default: now).
    ``started_at`` overrides the scheduler's start (tests; default: this process's)."""
    from engine import scheduler
    from engine.db import read_scope
    from engine.evolution.tables import EvolutionGeneration
    from engine.retrain.tables import RetrainRecord
    from engine.scheduler_tables import JobRun
    from engine.tables import utcnow

    if not (isinstance(hours, (int, float)) and math.isfinite(hours) and hours > 0):
        raise ParameterError(f"the metrics window is a positive number of hours, got "
                             f"{hours!r}; e.g. --hours 24")
    until = now or utcnow()
    since = until - timedelta(hours=hours)
    with read_scope() as s:
        gens = list(s.exec(select(EvolutionGeneration.evaluations).where(
            EvolutionGeneration.island == -1, col(EvolutionGeneration.created_at) > since,
            col(EvolutionGeneration.created_at) <= until)))
        retrains = len(list(s.exec(select(RetrainRecord.id).where(
            col(RetrainRecord.finished_at).is_not(None),
            col(RetrainRecord.finished_at) > since, col(RetrainRecord.finished_at) <= until))))
        runs = list(s.exec(select(JobRun).where(col(JobRun.started_at) > since,
                                                col(JobRun.started_at) <= until)))
    finished = [r for r in runs if r.status in ("success", "error") and r.finished_at]
    per_job: dict[str, list[float]] = {}
    for r in finished:
        per_job.setdefault(r.job_id, []).append((r.finished_at - r.started_at).total_seconds())
    jobs = [{"job": j, "errors": sum(1 for r in finished if r.job_id == j
                                     and r.status == "error"), **asdict(Latency.of(d))}
            for j, d in sorted(per_job.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    start = started_at if started_at is not None else scheduler.started_at()
    days = hours / 24.0
    return SystemMetrics(
        window_hours=float(hours), since=since, until=until,
        strategies_evaluated=int(sum(gens)),
        strategies_evaluated_per_hour=sum(gens) / hours,
        generations=len(gens), generations_per_day=len(gens) / days,
        retrains=retrains, retrains_per_day=retrains / days,
        scheduler_running=start is not None, scheduler_started_at=start,
        scheduler_uptime_s=(until - start).total_seconds() if start is not None else None,
        job_latency=Latency.of([d for ds in per_job.values() for d in ds]),
        job_errors=sum(1 for r in finished if r.status == "error"),
        job_missed=sum(1 for r in runs if r.status == "missed"),
        jobs_running=sum(1 for r in runs if r.status == "running"), jobs=jobs)
