"""What calls cost, and the daily / monthly budget that caps them.

Pricing (USD, prices per million tokens from ``prompts.yaml``)::

    cost = (input·p_in + output·p_out + cache_write·p_cw + cache_read·p_cr) / 1e6
    batch calls: × cost_management.batch_discount (0.5)

**Reserve, then settle.** Before a request is sent, :func:`reserve` books its *maximum*
cost — the estimated input tokens (at the dearer of the input and cache-write prices) plus
``max_tokens`` of output — against today's and this month's budget, in one database
transaction that first locks the ``llm_budget_lock`` row (and a process lock, so threads of
one process queue cheaply). If the spent + reserved total plus this call would pass a limit,
the call is refused with :class:`BudgetExceeded` and never sent. After the reply,
:func:`settle` replaces the reservation by the price of the reply's actual ``usage``
(a request the API refused settles at 0; a timeout, which the API may still bill, at its
reservation with ``estimated`` set).

**The limit is never exceeded**, whatever a reply claims. The reservation is an upper bound
(:func:`input_token_bound`: every token encodes at least one byte, so the request's bytes
bound its input tokens; output is bounded by ``max_tokens``), and a settled row never costs
more than its reservation: a reply whose usage is above its reservation, negative, or not
whole numbers is an **anomaly** — the row keeps the reported tokens and says what was
wrong (``anomaly``), its cost is the reservation (``estimated``), and no further call is
reserved (:class:`AnomalyPending`) until the user acknowledges it
(:func:`acknowledge_anomalies`: the Costs & Accuracy page, ``python -m engine costs
--acknowledge``). So today's spend + reservations only grows by what a reservation admitted.

Token counts, prices and the anomaly rules are in :mod:`engine.llm.usage` (re-exported here).
Reservations left unsettled by a killed process stop counting after
``STALE_RESERVATION_SECONDS``. Days and months are UTC.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from engine import db
from engine.errors import StratLabError
from engine.llm.prompts import LLMConfig, ModelSpec, load_config
from engine.llm.tables import LLMBudgetLock, LLMCall
from engine.llm.usage import (
    Usage,
    estimate_tokens,
    input_token_bound,
    max_cost,
    price,
    read_usage,
    usage_anomaly,
)
from engine.tables import utcnow

STALE_RESERVATION_SECONDS = 3600
#: Statuses of rows that are real API calls (not cache hits or refusals).
CALL_STATUSES = ("reserved", "ok", "error", "invalid", "timeout")


class BudgetExceeded(StratLabError):
    """A call would take today's or this month's LLM spend past its limit."""


class AnomalyPending(BudgetExceeded):
    """A reply reported usage that cannot be true; no paid call until it is acknowledged."""


_lock = threading.Lock()


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(now: datetime) -> datetime:
    return _day_start(now).replace(day=1)


def _committed(session, since: datetime, now: datetime) -> float:
    """Settled cost plus live reservations since ``since``."""
    settled = session.exec(
        select(func.coalesce(func.sum(LLMCall.cost_usd), 0.0))
        .where(LLMCall.created_at >= since, LLMCall.status != "reserved")
    ).one()
    stale = now - timedelta(seconds=STALE_RESERVATION_SECONDS)
    reserved = session.exec(
        select(func.coalesce(func.sum(LLMCall.reserved_usd), 0.0))
        .where(LLMCall.created_at >= max(since, stale), LLMCall.status == "reserved")
    ).one()
    return float(settled) + float(reserved)


def _lock_row(session) -> None:
    row = session.exec(select(LLMBudgetLock).where(LLMBudgetLock.id == 1)
                       .with_for_update()).first()
    if row is None:
        session.add(LLMBudgetLock(id=1))
        session.flush()


def reserve(*, model_key: str, spec: ModelSpec, prompt: str, prompt_version: str,
            max_cost_usd: float, symbol: str = "", batch: bool = False,
            cfg: LLMConfig | None = None, now: datetime | None = None) -> int:
    """Book ``max_cost_usd`` against the budgets; return the call's row id.

    Raises :class:`BudgetExceeded` (and records a ``refused`` row) when today's or this
    month's spent + reserved total plus this call would pass its limit.
    """
    cfg = cfg or load_config()
    cm = cfg.cost_management
    now = now or utcnow()
    with _lock, db.session_scope() as s:
        _lock_row(s)
        today = _committed(s, _day_start(now), now)
        month = _committed(s, _month_start(now), now)
        problem = None
        pending = _pending(s)
        if not (math.isfinite(max_cost_usd) and max_cost_usd >= 0):
            problem = f"its reservation ${max_cost_usd} is not a finite amount"
        elif pending:
            problem = (f"{len(pending)} LLM reply(s) reported usage that cannot be true "
                       f"(call {pending[0].id}: {pending[0].anomaly})")
        elif today + max_cost_usd > cm.daily_limit_usd + 1e-12:
            problem = (f"today's LLM spend would pass the daily limit: ${today:.4f} spent or "
                       f"reserved + up to ${max_cost_usd:.4f} for this call > "
                       f"${cm.daily_limit_usd:.2f}")
        elif month + max_cost_usd > cm.monthly_limit_usd + 1e-12:
            problem = (f"this month's LLM spend would pass the monthly limit: ${month:.4f} "
                       f"spent or reserved + up to ${max_cost_usd:.4f} for this call > "
                       f"${cm.monthly_limit_usd:.2f}")
        row = LLMCall(provider="anthropic", model_key=model_key, model_id=spec.id,
                      prompt=prompt, prompt_version=prompt_version, symbol=symbol,
                      batch=batch, created_at=now,
                      status="refused" if problem else "reserved",
                      reserved_usd=0.0 if problem else max_cost_usd,
                      error=problem or "")
        s.add(row)
        s.flush()
        row_id = int(row.id)
    if problem and pending:
        raise AnomalyPending(
            f"call refused, {problem}. Check the Costs & Accuracy page, then acknowledge it "
            "there or with `python -m engine costs --acknowledge`; until then only the "
            "offline analyst runs")
    if problem:
        raise BudgetExceeded(
            f"call refused, {problem}. Use the offline analyst, wait for the next UTC "
            "day/month, or raise cost_management limits in prompts/prompts.yaml")
    return row_id


def _pending(session) -> list[LLMCall]:
    return list(session.exec(select(LLMCall).where(col(LLMCall.anomaly) != "",
                                                   col(LLMCall.acknowledged_at).is_(None))
                             .order_by(col(LLMCall.id))).all())


def pending_anomalies() -> list[dict[str, Any]]:
    """Unacknowledged anomalies, oldest first: ``{"id", "created_at", "model_id", "prompt",
    "symbol", "reserved_usd", "cost_usd", "anomaly", …}`` (the whole call row)."""
    with db.session_scope() as s:
        return [r.model_dump() for r in _pending(s)]


def acknowledge_anomalies(now: datetime | None = None) -> int:
    """Mark every pending anomaly acknowledged (paid calls may run again); return how many."""
    now = now or utcnow()
    with _lock, db.session_scope() as s:
        rows = _pending(s)
        for r in rows:
            r.acknowledged_at = now
            s.add(r)
        return len(rows)


def settle(call_id: int, *, spec: ModelSpec, usage: Usage, status: str = "ok",
           latency_ms: float = 0.0, attempts: int = 1, error: str = "",
           batch: bool = False, cfg: LLMConfig | None = None,
           problems: list[str] | None = None, max_tokens: int | None = None,
           input_bound: int | None = None, at_reservation: bool = False) -> float:
    """Replace a reservation by the actual cost of ``usage``; return the cost recorded.

    ``problems`` (from :func:`read_usage`), ``max_tokens`` and ``input_bound`` feed the
    anomaly check (:func:`usage_anomaly`); an anomalous reply is recorded at its reservation.
    ``at_reservation`` records a call whose usage is unknown but may be billed (a timeout)
    at its reservation, marked ``estimated``.
    """
    cfg = cfg or load_config()
    cost = price(spec, usage, batch=batch, batch_discount=cfg.cost_management.batch_discount)
    with _lock, db.session_scope() as s:
        row = s.get(LLMCall, call_id)
        if row is None:
            raise StratLabError(f"no LLM call {call_id} to settle")
        anomaly = "" if at_reservation else usage_anomaly(
            usage, problems or [], cost_usd=cost, reserved_usd=row.reserved_usd,
            max_tokens=max_tokens, input_bound=input_bound)
        if anomaly:
            anomaly = (f"{anomaly} (reported: {usage.input_tokens} in, {usage.output_tokens} "
                       f"out, {usage.cache_creation_tokens} cache write, "
                       f"{usage.cache_read_tokens} cache read = ${cost:.6f}; recorded at the "
                       f"reservation ${row.reserved_usd:.6f})")
        if anomaly or at_reservation:
            cost = row.reserved_usd
        row.estimated = bool(anomaly or at_reservation)
        row.anomaly = anomaly[:2000]
        row.status = status
        row.cost_usd = cost
        row.input_tokens = usage.input_tokens
        row.output_tokens = usage.output_tokens
        row.cache_creation_tokens = usage.cache_creation_tokens
        row.cache_read_tokens = usage.cache_read_tokens
        row.latency_ms = latency_ms
        row.attempts = attempts
        row.error = error[:2000]
        row.settled_at = utcnow()
        s.add(row)
    return cost


def record_cache_hit(*, model_key: str, model_id: str, prompt: str, prompt_version: str,
                     symbol: str, saved_usd: float, provider: str = "anthropic") -> None:
    """A reply served from the response cache: free, with what it saved."""
    with db.session_scope() as s:
        s.add(LLMCall(provider=provider, model_key=model_key, model_id=model_id, prompt=prompt,
                      prompt_version=prompt_version, symbol=symbol, status="cached",
                      saved_usd=saved_usd, settled_at=utcnow()))


def record_offline(*, prompt: str, prompt_version: str, symbol: str) -> None:
    """An offline analysis (zero cost), so call counts include it."""
    with db.session_scope() as s:
        s.add(LLMCall(provider="offline", model_key="offline", model_id="offline-rules",
                      prompt=prompt, prompt_version=prompt_version, symbol=symbol,
                      status="ok", settled_at=utcnow()))


def spend(now: datetime | None = None) -> tuple[float, float]:
    """(today's, this month's) spend including live reservations."""
    now = now or utcnow()
    with db.session_scope() as s:
        return _committed(s, _day_start(now), now), _committed(s, _month_start(now), now)


def calls_frame(since: datetime | None = None) -> list[dict[str, Any]]:
    """Every call row since ``since`` as plain dicts (for the Costs page)."""
    with db.session_scope() as s:
        q = select(LLMCall).order_by(LLMCall.created_at)
        if since is not None:
            q = q.where(LLMCall.created_at >= since)
        return [r.model_dump() for r in s.exec(q).all()]


def cost_summary(now: datetime | None = None, cfg: LLMConfig | None = None) -> dict[str, Any]:
    """Spend against the limits, calls, cache hit rate and savings; by model, prompt, day.

    Keys: ``today_usd``, ``month_usd``, ``daily_limit_usd``, ``monthly_limit_usd``,
    ``calls`` (API calls this month), ``offline_calls``, ``cache_hits``, ``cache_hit_rate``
    (cache hits / (hits + API calls), this month), ``saved_usd``, ``refused``,
    ``estimated_usd`` (this month's cost recorded at reservations: timeouts, anomalies),
    ``anomalies`` (unacknowledged ones, which stop paid calls),
    ``by_model``, ``by_prompt``, ``by_day`` (lists of ``{…, "cost_usd", "calls"}``).
    """
    cfg = cfg or load_config()
    now = now or utcnow()
    today, month = spend(now)
    rows = calls_frame(_month_start(now))
    api = [r for r in rows if r["provider"] == "anthropic" and r["status"] in CALL_STATUSES]
    hits = [r for r in rows if r["status"] == "cached"]
    by_model: dict[str, dict[str, Any]] = {}
    by_prompt: dict[str, dict[str, Any]] = {}
    by_day: dict[str, dict[str, Any]] = {}
    for r in api:
        for table, key in ((by_model, r["model_id"]), (by_prompt, r["prompt"]),
                           (by_day, r["created_at"].strftime("%Y-%m-%d"))):
            e = table.setdefault(key, {"cost_usd": 0.0, "calls": 0, "input_tokens": 0,
                                       "output_tokens": 0, "cache_read_tokens": 0})
            e["cost_usd"] += r["cost_usd"] if r["status"] != "reserved" else r["reserved_usd"]
            e["calls"] += 1
            e["input_tokens"] += r["input_tokens"]
            e["output_tokens"] += r["output_tokens"]
            e["cache_read_tokens"] += r["cache_read_tokens"]
    n_lookups = len(api) + len(hits)
    return {
        "today_usd": round(today, 6),
        "month_usd": round(month, 6),
        "daily_limit_usd": cfg.cost_management.daily_limit_usd,
        "monthly_limit_usd": cfg.cost_management.monthly_limit_usd,
        "calls": len(api),
        "offline_calls": sum(1 for r in rows if r["provider"] == "offline"),
        "cache_hits": len(hits),
        "cache_hit_rate": (len(hits) / n_lookups) if n_lookups else 0.0,
        "saved_usd": round(sum(r["saved_usd"] for r in hits), 6),
        "refused": sum(1 for r in rows if r["status"] == "refused"),
        "estimated_usd": round(sum(r["cost_usd"] for r in api if r["estimated"]), 6),
        "anomalies": [{k: a[k] for k in ("id", "created_at", "model_id", "prompt", "symbol",
                                         "reserved_usd", "cost_usd", "anomaly")}
                      for a in pending_anomalies()],
        "failed": sum(1 for r in api if r["status"] not in ("ok", "reserved")),
        "by_model": [{"model": k, **v} for k, v in sorted(by_model.items())],
        "by_prompt": [{"prompt": k, **v} for k, v in sorted(by_prompt.items())],
        "by_day": [{"day": k, **v} for k, v in sorted(by_day.items())],
    }


__all__ = ["AnomalyPending", "BudgetExceeded", "Usage", "acknowledge_anomalies", "calls_frame",
           "cost_summary", "estimate_tokens", "input_token_bound", "max_cost",
           "pending_anomalies", "price", "read_usage", "record_cache_hit", "record_offline",
           "reserve", "settle", "spend", "usage_anomaly"]
