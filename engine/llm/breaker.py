"""The circuit breaker of each model, its state in the database so every process shares it.

closed → (``circuit_failure_threshold`` consecutive failed calls) → open → (after
``circuit_reset_seconds``) → half-open: one trial call decides (a success closes it, a
failure opens it again). The state is a row of ``llm_breakers`` per model — the app and each
command-line run see the same breaker — and times are wall-clock seconds (``time.time``),
comparable between processes. :func:`breaker_states` reports them for the System page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlmodel import delete, select

from engine import db
from engine.llm.prompts import LLMConfig, load_config
from engine.llm.redaction import redact
from engine.llm.tables import LLMBreaker
from engine.tables import utcnow


class CircuitBreaker:
    """closed → (threshold consecutive failures) → open → (reset time) → half-open → …

    The state of model ``model_id`` is a row of ``llm_breakers``, so every process of the lab
    (the app, each command-line run) sees one breaker; ``clock`` is wall-clock seconds
    (``time.time``), comparable between processes.
    """

    def __init__(self, model_id: str, threshold: int, reset_seconds: float,
                 clock: Callable[[], float] = time.time):
        self.model_id = model_id
        self.threshold, self.reset_seconds, self._clock = threshold, reset_seconds, clock

    def _read(self) -> tuple[int, float | None, str]:
        with db.session_scope() as s:
            row = s.get(LLMBreaker, self.model_id)
            return (0, None, "") if row is None else (row.failures, row.opened_at,
                                                       row.last_error)

    @property
    def failures(self) -> int:
        return self._read()[0]

    @property
    def opened_at(self) -> float | None:
        return self._read()[1]

    @property
    def last_error(self) -> str:
        return self._read()[2]

    def _state(self, opened_at: float | None) -> str:
        if opened_at is None:
            return "closed"
        return "half_open" if self._clock() - opened_at >= self.reset_seconds else "open"

    @property
    def state(self) -> str:
        return self._state(self.opened_at)

    def allow(self) -> bool:
        return self.state != "open"

    def success(self) -> None:
        with _breakers_lock, db.session_scope() as s:
            row = s.get(LLMBreaker, self.model_id)
            if row is not None and (row.failures or row.opened_at is not None):
                row.failures, row.opened_at, row.last_error = 0, None, ""
                row.updated_at = utcnow()
                s.add(row)

    def failure(self, error: str = "") -> None:
        with _breakers_lock, db.session_scope() as s:
            row = s.exec(select(LLMBreaker).where(LLMBreaker.model_id == self.model_id)
                         .with_for_update()).first() or LLMBreaker(model_id=self.model_id)
            row.failures += 1
            row.last_error = redact(error)[:300]
            if row.failures >= self.threshold or row.opened_at is not None:
                row.opened_at = self._clock()
            row.updated_at = utcnow()
            s.add(row)

    def retry_in(self, opened_at: float | None = None) -> float:
        opened_at = self.opened_at if opened_at is None else opened_at
        if opened_at is None:
            return 0.0
        return max(0.0, self.reset_seconds - (self._clock() - opened_at))


_breakers_lock = threading.Lock()


def breaker_for(model_id: str, cfg: LLMConfig | None = None,
                clock: Callable[[], float] = time.time) -> CircuitBreaker:
    """The breaker of ``model_id`` (its state is shared through the database)."""
    cfg = cfg or load_config()
    return CircuitBreaker(model_id, cfg.client.circuit_failure_threshold,
                          cfg.client.circuit_reset_seconds, clock)


def breaker_states(cfg: LLMConfig | None = None,
                   clock: Callable[[], float] = time.time) -> list[dict[str, Any]]:
    """Every model's breaker that has failed: ``{"model", "state", "failures",
    "retry_in_s", "last_error"}`` (for the System page)."""
    with db.session_scope() as s:
        rows = [(r.model_id, r.failures, r.opened_at, r.last_error)
                for r in s.exec(select(LLMBreaker).order_by(LLMBreaker.model_id)).all()]
    out = []
    for model_id, failures, opened_at, last_error in rows:
        b = breaker_for(model_id, cfg, clock)
        out.append({"model": model_id, "state": b._state(opened_at), "failures": failures,
                    "retry_in_s": round(b.retry_in(opened_at), 1), "last_error": last_error})
    return out


def reset_breakers() -> None:
    """Close every breaker (delete their rows)."""
    with _breakers_lock, db.session_scope() as s:
        s.exec(delete(LLMBreaker))


__all__ = ["CircuitBreaker", "breaker_for", "breaker_states", "reset_breakers"]
