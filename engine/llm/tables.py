"""Tables of the LLM engine: calls and their cost, the response cache, decisions, metrics.

- ``llm_calls`` — one row per model call attempt (reserved → ok / error / invalid /
  refused) or response-cache hit (``cached``): model, prompt and version, tokens in / out /
  cache write / cache read, reserved and actual cost, latency, status; ``estimated`` when
  the cost is the reservation (a timeout, an anomaly) and ``anomaly`` (with
  ``acknowledged_at``) when the reply's usage cannot be true. Budgets are summed from it.
- ``llm_breakers`` — each model's circuit breaker (consecutive failures, when it opened),
  so separate command-line runs and the app see the same state.
- ``llm_budget_lock`` — one row locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
  ``BEGIN IMMEDIATE`` serialises writers anyway) while a reservation checks the budget.
- ``llm_response_cache`` — replies keyed by prompt, model and the bucketed context.
- ``ai_decisions`` — the seed's table plus prompt name/version, provider, regime, horizon,
  as-of price, the risk verdict and the outcome once known; the look-ahead controls
  (migration 0008): the models' ``training_cutoff`` and whether the as-of date is
  ``in_training_window``, ``blind`` (the model saw no names, dates or real prices), the
  replay ``arm`` (named / blind / control) and ``replay_id`` that pair a replay's
  decisions, and ``raw_move_pct`` (the price move over the horizon, for the HOLD and
  buy-and-hold baselines).
- ``ai_performance_metrics`` — the seed's daily aggregate.

Datetimes are naive UTC (``sa_type=DateTime``, :func:`engine.tables.utcnow`). No secret is
ever stored: error texts are redacted before they are written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, Date, DateTime, Text
from sqlmodel import Field, SQLModel

from engine.tables import utcnow


class LLMCall(SQLModel, table=True):
    __tablename__ = "llm_calls"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=DateTime)
    provider: str = Field(default="anthropic", max_length=16)
    model_key: str = Field(default="", max_length=32)
    model_id: str = Field(default="", max_length=64)
    prompt: str = Field(default="", max_length=64, index=True)
    prompt_version: str = Field(default="", max_length=16)
    symbol: str = Field(default="", max_length=64)
    status: str = Field(default="reserved", max_length=16, index=True)
    batch: bool = False
    reserved_usd: float = 0.0
    cost_usd: float = 0.0
    saved_usd: float = 0.0  # a cache hit: what the cached reply had cost
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    latency_ms: float = 0.0
    attempts: int = 0
    error: str = Field(default="", sa_column=Column(Text))
    settled_at: datetime | None = Field(default=None, sa_type=DateTime)
    #: cost_usd is the reservation, not a price of reported usage (a timeout, an anomaly)
    estimated: bool = False
    #: why the reply's usage cannot be true ("" when it can); blocks paid calls until
    #: acknowledged (engine.llm.costs.acknowledge_anomalies)
    anomaly: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    acknowledged_at: datetime | None = Field(default=None, sa_type=DateTime)


class LLMBreaker(SQLModel, table=True):
    """One model's circuit breaker, shared by every process of the lab."""

    __tablename__ = "llm_breakers"

    model_id: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    opened_at: float | None = None  # wall-clock epoch seconds (time.time) when it opened
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class LLMBudgetLock(SQLModel, table=True):
    __tablename__ = "llm_budget_lock"

    id: int = Field(default=1, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class LLMResponseCache(SQLModel, table=True):
    __tablename__ = "llm_response_cache"

    key: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    expires_at: datetime = Field(sa_type=DateTime, index=True)
    prompt: str = Field(default="", max_length=64)
    model_id: str = Field(default="", max_length=64)
    cost_usd: float = 0.0
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


def _uuid() -> str:
    return str(uuid.uuid4())


class AIDecision(SQLModel, table=True):
    __tablename__ = "ai_decisions"

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    timestamp: datetime = Field(default_factory=utcnow, index=True, sa_type=DateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    ticker: str = Field(max_length=64, index=True)
    as_of: datetime = Field(sa_type=DateTime, index=True)
    as_of_price: float
    decision: str = Field(max_length=8)
    confidence: float
    models_used: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    total_cost: float = 0.0
    actual_outcome: float | None = None  # % return in the decision's direction
    provider: str = Field(default="offline", max_length=16)
    prompt_name: str = Field(default="", max_length=64)
    prompt_version: str = Field(default="", max_length=32)
    prompt_versions: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    regime: str = Field(default="unknown", max_length=32)
    timeframe: str = Field(default="swing", max_length=16)
    horizon_bars: int = 5
    entry_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    position_size: float = 0.0
    consensus: bool = False
    agreement: float | None = None
    risk_approved: bool = False
    risk_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    actionable: bool = False
    source: str = Field(default="analyze", max_length=16)  # analyze | screen | replay
    correct: bool | None = None
    pnl_usd: float | None = None
    exit_time: datetime | None = Field(default=None, sa_type=DateTime)
    exit_reason: str = Field(default="", max_length=16)
    outcome_filled_at: datetime | None = Field(default=None, sa_type=DateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # look-ahead controls (issue 13 §3, migration 0008_llm_lookahead)
    training_cutoff: dt.date | None = Field(default=None, sa_type=Date)
    in_training_window: bool | None = None
    blind: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    arm: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    replay_id: str = Field(default="", max_length=36, sa_column_kwargs={"server_default": ""})
    #: (close[t+h] / close[t] − 1)·100 — what HOLD and buy-and-hold are scored on
    raw_move_pct: float | None = None


class AIPerformanceMetric(SQLModel, table=True):
    __tablename__ = "ai_performance_metrics"

    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(sa_type=Date, index=True, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    total_decisions: int = 0
    scored_decisions: int = 0
    accuracy_rate: float | None = None
    win_rate: float | None = None
    total_pnl: float = 0.0
    total_api_cost: float = 0.0


__all__ = ["AIDecision", "AIPerformanceMetric", "LLMBreaker", "LLMBudgetLock", "LLMCall",
           "LLMResponseCache"]
