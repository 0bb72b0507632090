"""Response cache with a TTL whose key buckets the numeric context, so *similar* queries hit.

The key is a SHA-256 of the prompt name and version, the model id, the symbol, any extra
text (the proposal a contrarian judges) and every snapshot number rounded to its bucket
(steps from ``cache_buckets`` in prompts.yaml):

- ``price`` — relative steps of ``price_rel_step`` (0.5 %): ``floor(ln(p) / ln(1 + step))``,
  so 100.00 and 100.20 share a bucket while 100 and 101 do not;
- ``pct`` — ``floor(x / pct_step)`` (0.5 percentage points);
- ``osc`` — ``floor(x / oscillator_step)`` (5 RSI points: 55–59.99 is one bucket);
- ``ratio`` — ``floor(x / ratio_step)`` (0.1);
- the regime label is kept as is; missing numbers are ``None``;
- a blind snapshot (:mod:`engine.llm.blind`) adds ``blind`` to the key.

Entries live in the ``llm_response_cache`` table (shared by the app and the command line)
and expire after ``cost_management.cache_ttl_seconds`` (300 s). A hit costs nothing and is
logged as a ``cached`` call with the money it saved.

Prompt caching on the API side is separate: :func:`system_blocks` marks the static system
prompt with ``cache_control`` so repeated calls read it at the cache-read price.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, delete

from engine import db
from engine.llm.context import KINDS, MarketContext
from engine.llm.prompts import CacheBuckets, LLMConfig, load_config
from engine.llm.tables import LLMResponseCache
from engine.tables import utcnow


def bucket(value: float | None, kind: str, steps: CacheBuckets) -> int | None:
    """The bucket number of ``value`` of ``kind`` (see the module docstring)."""
    if value is None or not math.isfinite(value):
        return None
    if kind == "price":
        if value <= 0:
            return None
        return math.floor(math.log(value) / math.log1p(steps.price_rel_step))
    step = {"pct": steps.pct_step, "osc": steps.oscillator_step,
            "ratio": steps.ratio_step}[kind]
    return math.floor(value / step)


def context_key(*, prompt: str, version: str, model_id: str, ctx: MarketContext,
                extra: str = "", steps: CacheBuckets | None = None) -> str:
    """The cache key of a query (hex SHA-256)."""
    steps = steps or load_config().cache_buckets
    buckets = {k: bucket(ctx.values.get(k), kind, steps) for k, kind in KINDS.items()}
    doc = {"prompt": prompt, "version": version, "model": model_id, "symbol": ctx.symbol,
           "regime": ctx.regime, "extra": extra, "b": buckets}
    if ctx.blind:  # another prompt (no names, rebased prices): never shares a named entry
        doc["blind"] = True
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class ResponseCache:
    """Get/put replies by key with a TTL; ``clock`` returns naive UTC now (tests move it)."""

    def __init__(self, ttl_seconds: float | None = None,
                 clock: Callable[[], datetime] = utcnow, cfg: LLMConfig | None = None):
        cfg = cfg or load_config()
        self.ttl = float(cfg.cost_management.cache_ttl_seconds if ttl_seconds is None
                         else ttl_seconds)
        self.clock = clock

    def get(self, key: str) -> tuple[dict[str, Any], float] | None:
        """``(payload, cost_usd of the original call)`` if a live entry exists."""
        if self.ttl <= 0:
            return None
        with db.session_scope() as s:
            row = s.get(LLMResponseCache, key)
            if row is None or row.expires_at <= self.clock():
                return None
            return dict(row.payload), float(row.cost_usd)

    def put(self, key: str, payload: dict[str, Any], *, cost_usd: float, prompt: str = "",
            model_id: str = "") -> None:
        if self.ttl <= 0:
            return
        from engine.llm.redaction import redact_obj  # no key, nor anything like one, is stored

        payload = redact_obj(payload)
        now = self.clock()
        with db.session_scope() as s:
            row = s.get(LLMResponseCache, key) or LLMResponseCache(key=key, expires_at=now)
            row.created_at = now
            row.expires_at = now + timedelta(seconds=self.ttl)
            row.payload = payload
            row.cost_usd = cost_usd
            row.prompt = prompt
            row.model_id = model_id
            s.add(row)

    def purge(self) -> int:
        """Delete expired entries; return how many."""
        with db.session_scope() as s:
            res = s.exec(delete(LLMResponseCache)
                         .where(col(LLMResponseCache.expires_at) <= self.clock()))
            return int(res.rowcount or 0)


def system_blocks(cfg: LLMConfig | None = None) -> list[dict[str, Any]]:
    """The static system prompt as one text block with an ephemeral ``cache_control``
    breakpoint (Anthropic prompt caching: later calls read it at the cache-read price)."""
    cfg = cfg or load_config()
    return [{"type": "text", "text": cfg.system_text(), "cache_control": {"type": "ephemeral"}}]


__all__ = ["ResponseCache", "bucket", "context_key", "system_blocks"]
