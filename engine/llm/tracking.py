"""Decision tracking: record every decision, score it once its horizon has passed, aggregate.

**Outcome** of a decision made at the close of bar *t* (price ``as_of_price``), over its
horizon *h* bars (``tracking.horizon_bars`` by timeframe: day_trade 1, swing 5, position 20),
known once bar *t + h* exists in the data:

- BUY: walk bars *t+1 … t+h*; the stop-loss triggers when low ≤ stop (exit at
  min(open, stop)), else the take-profit when high ≥ target (exit at max(open, target)) —
  the stop wins when both could; otherwise exit at the close of *t+h*.
  ``actual_outcome`` = (exit / entry − 1)·100. SELL is mirrored:
  ``actual_outcome`` = (1 − exit / entry)·100 — positive when the price fell.
- HOLD: ``actual_outcome`` = the raw move (close[t+h] / entry − 1)·100.
- ``correct``: BUY/SELL when ``actual_outcome`` > 0; HOLD when |move| < ``hold_band_pct``.
- ``pnl_usd`` (followed decisions only, i.e. ``actionable`` after the risk check):
  ``actual_outcome``/100 · position_size · ``risk.portfolio_usd``.

``raw_move_pct`` = (close[t+h] / entry − 1)·100 for every decision (the HOLD and
buy-and-hold baselines of :mod:`engine.llm.scorecard`).

**Metrics**: accuracy = correct / scored decisions; win rate = actionable scored decisions
with pnl > 0 / actionable scored decisions; P&L = Σ pnl_usd; API cost = Σ total_cost;
ROI on API cost = P&L / API cost. ``ai_performance_metrics`` holds one row per as-of date.

:func:`ensure_llm_jobs` registers :func:`run_outcome_job` (fill + aggregate) as an hourly
job on the shared scheduler.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import polars as pl
from sqlmodel import col, delete, select

from engine import db
from engine.errors import StratLabError
from engine.llm import scorecard
from engine.llm.lookahead import side
from engine.llm.prompts import LLMConfig, load_config
from engine.llm.tables import AIDecision, AIPerformanceMetric
from engine.risk import PortfolioState
from engine.tables import utcnow

JOB_ID = "llm_outcomes"
JOB_FUNC = "engine.llm.tracking:run_outcome_job"


def horizon_for(timeframe: str, cfg: LLMConfig | None = None) -> int:
    cfg = cfg or load_config()
    return int(cfg.tracking.horizon_bars.get(timeframe, 5))


def record_decision(**fields: Any) -> str:
    """Insert one ``ai_decisions`` row; return its id. Every text is redacted first (no API
    key, nor anything shaped like one, is ever stored)."""
    from engine.llm.redaction import redact_obj

    with db.session_scope() as s:
        row = AIDecision(**{k: redact_obj(v) if isinstance(v, (str, dict, list)) else v
                            for k, v in fields.items()})
        s.add(row)
        s.flush()
        return row.id


def outcome(df: pl.DataFrame, as_of: datetime, *, decision: str, entry: float,
            stop: float | None, target: float | None, horizon: int,
            hold_band_pct: float = 2.0) -> dict[str, Any] | None:
    """Score one decision on ``df`` (see the module docstring); None until the horizon
    has passed in the data."""
    ts = df["timestamp"]
    idx = int((ts <= as_of).sum()) - 1
    if idx < 0 or idx + horizon >= df.height:
        return None
    path = df.slice(idx + 1, horizon)
    o, h, lo, c = (path[k].to_list() for k in ("open", "high", "low", "close"))
    exit_price, reason, exit_i = c[-1], "horizon", horizon - 1
    if decision in ("BUY", "SELL"):
        long = decision == "BUY"
        for i in range(horizon):
            if stop is not None and (lo[i] <= stop if long else h[i] >= stop):
                exit_price = min(o[i], stop) if long else max(o[i], stop)
                reason, exit_i = "stop_loss", i
                break
            if target is not None and (h[i] >= target if long else lo[i] <= target):
                exit_price = max(o[i], target) if long else min(o[i], target)
                reason, exit_i = "take_profit", i
                break
        ret = (exit_price / entry - 1.0) * 100.0 if long else (1.0 - exit_price / entry) * 100.0
        correct = ret > 0
    else:
        ret = (c[-1] / entry - 1.0) * 100.0
        correct = abs(ret) < hold_band_pct
    return {"actual_outcome": ret, "correct": correct, "exit_reason": reason,
            "exit_time": path["timestamp"][exit_i], "exit_price": exit_price,
            "raw_move_pct": (c[-1] / entry - 1.0) * 100.0}


def fill_outcomes(*, loader: Any = None, cfg: LLMConfig | None = None) -> int:
    """Score every unscored decision whose horizon has passed in its symbol's data (and
    give decisions scored before raw moves were kept their ``raw_move_pct``); return how
    many were newly scored."""
    cfg = cfg or load_config()
    if loader is None:
        from engine.market import load_dataset as loader
    with db.session_scope() as s:
        pending = list(s.exec(select(AIDecision).where(
            col(AIDecision.actual_outcome).is_(None) | col(AIDecision.raw_move_pct).is_(None))))
    by_symbol: dict[str, list[AIDecision]] = defaultdict(list)
    for d in pending:
        by_symbol[d.ticker].append(d)
    n = 0
    for symbol, rows in by_symbol.items():
        try:
            df = loader(symbol)
        except StratLabError:
            continue
        updates = []
        for d in rows:
            res = outcome(df, d.as_of, decision=d.decision, entry=d.as_of_price,
                          stop=d.stop_loss, target=d.take_profit, horizon=d.horizon_bars,
                          hold_band_pct=cfg.tracking.hold_band_pct)
            if res is not None:
                updates.append((d.id, res, d.actionable, d.position_size))
        with db.session_scope() as s:  # one transaction per symbol
            for did, res, actionable, size in updates:
                row = s.get(AIDecision, did)
                row.raw_move_pct = res["raw_move_pct"]
                if row.actual_outcome is not None:  # scored before raw moves were kept
                    s.add(row)
                    continue
                n += 1
                row.actual_outcome = res["actual_outcome"]
                row.correct = res["correct"]
                row.exit_reason = res["exit_reason"]
                row.exit_time = res["exit_time"]
                row.pnl_usd = (res["actual_outcome"] / 100.0 * size * cfg.risk.portfolio_usd
                               if actionable else None)
                row.outcome_filled_at = utcnow()
                s.add(row)
    return n


_rates = scorecard.rates


def aggregate_daily() -> int:
    """Rebuild ``ai_performance_metrics`` (one row per as-of date); return the row count."""
    with db.session_scope() as s:
        rows = list(s.exec(select(AIDecision)))
        days: dict[Any, list[AIDecision]] = defaultdict(list)
        for r in rows:
            days[r.as_of.date()].append(r)
        s.exec(delete(AIPerformanceMetric))
        for day, items in sorted(days.items()):
            m = _rates(items)
            s.add(AIPerformanceMetric(date=day, total_decisions=m["decisions"],
                                      scored_decisions=m["scored"], accuracy_rate=m["accuracy"],
                                      win_rate=m["win_rate"], total_pnl=m["pnl_usd"],
                                      total_api_cost=m["api_cost_usd"]))
        return len(days)


def run_outcome_job() -> dict[str, int]:
    """The scheduled job: fill outcomes, then aggregate."""
    filled = fill_outcomes()
    return {"filled": filled, "days": aggregate_daily()}


def ensure_llm_jobs(scheduler: Any = None, *, hours: float = 1.0) -> str:
    """Register the outcome job (every ``hours``) on the shared scheduler; idempotent."""
    from engine.scheduler import schedule

    return schedule(JOB_FUNC, job_id=JOB_ID, trigger="interval", hours=hours,
                    name="LLM decision outcomes and daily accuracy", scheduler=scheduler)


def _same_book(r: AIDecision, arm: str, replay_id: str) -> bool:
    """Whether ``r`` is a position of the book an ``arm`` of ``replay_id`` trades: the
    offline control arm only sees its own replay's control decisions, and no other arm sees
    them; a paired replay's named and blind arms do not see each other's."""
    if arm == "control":
        return r.arm == "control" and r.replay_id == replay_id
    if r.arm == "control":
        return False
    return not (replay_id and r.replay_id == replay_id and r.arm and r.arm != arm)


def portfolio_state(as_of: datetime | None = None, *, arm: str = "",
                    replay_id: str = "") -> PortfolioState:
    """Open actionable decisions and the realised P&L of ``as_of``'s day (for the risk check).

    A decision is open at *t* when it was made at or before *t* and has not exited by *t*
    (unscored decisions count as open). ``arm`` / ``replay_id`` keep a replay arm's book
    apart from the other arms of the same replay (:func:`_same_book`)."""
    t = as_of or utcnow()
    with db.session_scope() as s:
        rows = list(s.exec(select(AIDecision).where(AIDecision.actionable == True,  # noqa: E712
                                                    col(AIDecision.as_of) <= t)))
    rows = [r for r in rows if _same_book(r, arm, replay_id)]
    open_n = sum(1 for r in rows if r.exit_time is None or r.exit_time > t)
    day_pnl = sum(r.pnl_usd or 0.0 for r in rows
                  if r.exit_time is not None and r.exit_time.date() == t.date()
                  and r.exit_time <= t)
    return PortfolioState(open_positions=open_n, daily_pnl_usd=day_pnl)


def list_decisions(symbol: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Recent decisions, newest first, as plain dicts."""
    with db.session_scope() as s:
        q = select(AIDecision).order_by(col(AIDecision.timestamp).desc()).limit(limit)
        if symbol:
            q = q.where(AIDecision.ticker == symbol)
        return [r.model_dump() for r in s.exec(q)]


def _bucket(conf: float) -> str:
    lo = min(90, int(conf // 10) * 10)
    return f"{lo}-{lo + 10}"


def accuracy_report(*, seed: int = 0, cfg: LLMConfig | None = None) -> dict[str, Any]:
    """Accuracy, win rate, P&L and ROI overall and by model, prompt version, regime,
    confidence bucket (with calibration) and as-of date; the look-ahead controls:
    ``training_window`` (each side of the models' training cutoff), ``arms`` (Claude, the
    offline control arm and buy-and-hold on the same replay dates, overall and by side),
    ``paired`` (named vs blind) and ``uncertainty`` (intervals, calibration, tests;
    bootstraps seeded with ``seed``) — see :mod:`engine.llm.scorecard`."""
    cfg = cfg or load_config()
    with db.session_scope() as s:
        rows = list(s.exec(select(AIDecision)))
        metrics = [m.model_dump() for m in
                   s.exec(select(AIPerformanceMetric).order_by(AIPerformanceMetric.date))]

    def group(key) -> list[dict[str, Any]]:
        g: dict[str, list[AIDecision]] = defaultdict(list)
        for r in rows:
            g[key(r)].append(r)
        return [{"key": k, **_rates(v)} for k, v in sorted(g.items())]

    calibration = []
    for item in group(lambda r: _bucket(r.confidence)):
        calibration.append({"bucket": item["key"], "mean_confidence": item["mean_confidence"],
                            "hit_rate": item["accuracy"], "hit_rate_ci": item["accuracy_ci"],
                            "scored": item["scored"]})
    claude = [r for r in rows if r.provider == "anthropic"]
    return {
        "overall": _rates(rows),
        "by_model": group(lambda r: "+".join(sorted(set(r.models_used))) or r.provider),
        "by_prompt_version": group(lambda r: f"{r.prompt_name}@{r.prompt_version}"),
        "by_provider": group(lambda r: r.provider),
        "by_regime": group(lambda r: r.regime),
        "by_confidence": group(lambda r: _bucket(r.confidence)),
        "calibration": calibration,
        "by_day": [{"date": str(m["date"]), "decisions": m["total_decisions"],
                    "scored": m["scored_decisions"], "accuracy": m["accuracy_rate"],
                    "win_rate": m["win_rate"], "pnl_usd": m["total_pnl"],
                    "api_cost_usd": m["total_api_cost"]} for m in metrics],
        "training_window": scorecard.by_window(rows),
        "arms": scorecard.arms(rows, cfg),
        "arms_by_window": {
            w: scorecard.arms([r for r in rows if r.arm == "control"
                               or side(r.in_training_window) == w], cfg)
            for w in ("inside", "outside")},
        "paired": scorecard.paired(rows),
        "uncertainty": {"all": scorecard.uncertainty(rows, cfg, seed=seed),
                        "claude": scorecard.uncertainty(claude, cfg, seed=seed)},
    }


__all__ = ["JOB_ID", "accuracy_report", "aggregate_daily", "ensure_llm_jobs", "fill_outcomes",
           "horizon_for", "list_decisions", "outcome", "portfolio_state", "record_decision",
           "run_outcome_job"]
