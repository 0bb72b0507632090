"""The Claude client: the official ``anthropic`` SDK plus budget, pacing, breaker and repair.

One :meth:`ClaudeClient.call` does, in order:

1. **Response cache** (:mod:`engine.llm.cache`): a similar query within the TTL is answered
   from the database at zero cost.
2. **Circuit breaker** per model: after ``circuit_failure_threshold`` consecutive failed
   calls the model is not called for ``circuit_reset_seconds``; then one trial call decides
   (success closes it). The state lives in the database (``llm_breakers``), so every process
   — the app, each command-line run — sees the same breaker; :func:`breaker_states` reports
   every model for the System page.
3. **Budget reservation** (:mod:`engine.llm.costs`): the call's maximum cost is reserved
   before sending (an upper bound: the request's bytes bound its input tokens, ``max_tokens``
   its output); a call that would pass a limit raises
   :class:`~engine.llm.costs.BudgetExceeded` and is never sent, and so does every call while
   an anomaly is unacknowledged (:class:`~engine.llm.costs.AnomalyPending`).
4. **Rate limiter** per model: at least ``min_delay_seconds`` between two call starts.
5. **The request**: static system prompt with a prompt-cache breakpoint, the filled template,
   and the JSON schema of the prompt's output kind as the API's structured output
   (``output_config.format``). Timeouts come from prompts.yaml; **retries are the SDK's own**
   (``max_retries``, exponential backoff that honours ``retry-after`` / ``retry-after-ms``
   on 429, 529 and other 5xx) — nothing is stacked on top of them, but a wait longer than
   ``max_retry_wait_seconds`` fails the call at once (no hour-long sleep on a huge
   ``retry-after``) and so does a wait or attempt that would pass ``max_call_seconds``.
   A 200 reply whose body is not a Messages API message (an HTML page, JSON cut off
   mid-body) is a failed call like any other bad reply: recorded, its reservation released,
   counted by the breaker.
6. **Validation** with pydantic (:mod:`engine.llm.schema`). A malformed or invalid reply is
   sent back once with the validation error; if the second reply is still wrong the call is
   recorded as ``invalid`` and returns no output — a decision is never invented.
7. **Settlement** of the reservation from the reply's ``usage``; usage that cannot be true
   (above the reservation, negative, not whole numbers) is an anomaly recorded at the
   reservation (:func:`engine.llm.costs.settle`). A timeout, which the API may still bill,
   is recorded at its reservation, marked as an estimate.

The API key comes from the ``api_key`` argument or ``ANTHROPIC_API_KEY``; it is held only by
the SDK client, never logged, stored or put into an error message (:func:`redact`). A reply
that echoes it — or anything shaped like an Anthropic key (``sk-ant-…``) — is redacted
before it is parsed, so no payload, cache entry or printed document carries it.
Tests inject ``http_client=httpx2.Client(transport=httpx2.MockTransport(handler))`` (the SDK
is built on ``httpx2``) or ``base_url`` (a loopback stand-in server). The breaker
(:mod:`engine.llm.breaker`), the capped SDK (:mod:`engine.llm.sdk`) and reply parsing
(:mod:`engine.llm.replies`) live in their own modules; their names are re-exported here.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.config import get_settings
from engine.errors import StratLabError
from engine.llm import costs
from engine.llm.breaker import CircuitBreaker, breaker_for, breaker_states, reset_breakers
from engine.llm.cache import ResponseCache, context_key, system_blocks
from engine.llm.context import MarketContext
from engine.llm.prompts import LLMConfig, ModelSpec, PromptSpec, load_config
from engine.llm.redaction import KEY_PATTERN, protect, redact, redact_obj
from engine.llm.replies import (
    is_message,
    level_context,
    parse_reply,
    reply_text,
    validate_payload,
    with_repair,
)
from engine.llm.schema import JSON_SCHEMAS
from engine.llm.sdk import CallTooSlow, capped_sdk_class

log = logging.getLogger(__name__)

ENV_KEY = "ANTHROPIC_API_KEY"


class MissingAPIKey(StratLabError):
    """No Anthropic API key was given."""


def resolve_api_key(api_key: str | None = None) -> str | None:
    """The key passed in, else ``ANTHROPIC_API_KEY`` (the ``llm`` settings), else None."""
    return api_key or get_settings().llm.api_key()


# ----------------------------------------------------------------------------- results

@dataclass
class CallResult:
    """The outcome of one prompt on one model (or of the offline analyst)."""

    prompt: str
    prompt_version: str
    model_key: str
    model_id: str
    provider: str
    status: str  # ok | cached | invalid | error | timeout | circuit_open
    output: BaseModel | None = None
    usage: costs.Usage = field(default_factory=costs.Usage)
    cost_usd: float = 0.0
    saved_usd: float = 0.0
    cached: bool = False
    latency_ms: float = 0.0
    attempts: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.output is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt, "prompt_version": self.prompt_version,
            "model": self.model_id, "model_key": self.model_key, "provider": self.provider,
            "status": self.status,
            "output": self.output.model_dump() if self.output is not None else None,
            "input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens,
            "cache_creation_tokens": self.usage.cache_creation_tokens,
            "cache_read_tokens": self.usage.cache_read_tokens,
            "cost_usd": self.cost_usd, "saved_usd": self.saved_usd, "cached": self.cached,
            "latency_ms": self.latency_ms, "attempts": self.attempts, "error": self.error,
        }


# ------------------------------------------------------------------------------ pacing

class RateLimiter:
    """At least ``min_delay`` seconds between the starts of two calls to one model."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self._clock, self._sleep = clock, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, min_delay: float) -> float:
        """Block until ``key`` may be called; return the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(key, now))
            self._next[key] = start + min_delay
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return delay

_limiter = RateLimiter()

# -------------------------------------------------------------------------- the client

def render(spec: PromptSpec, ctx: MarketContext, cfg: LLMConfig, *,
           proposal: str = "") -> str:
    """The user message: the prompt's template filled from the snapshot (a blind snapshot
    names neither the symbol nor the date: :attr:`MarketContext.label` / ``when``)."""
    return spec.template.format(
        symbol=ctx.label, as_of=ctx.when, context=ctx.text(),
        regime=ctx.regime, proposal=proposal or "(none)",
        max_penalty=f"{cfg.consensus.contrarian_max_penalty:g}",
        max_position_size=f"{cfg.risk.max_position_size:g}")


class ClaudeClient:
    """Calls Claude models for the lab's prompts (see the module docstring)."""

    provider = "anthropic"

    def __init__(self, api_key: str | None = None, *, http_client: Any = None,
                 cfg: LLMConfig | None = None, max_retries: int | None = None,
                 timeout: float | None = None, cache: ResponseCache | None = None,
                 limiter: RateLimiter | None = None,
                 breaker_clock: Callable[[], float] = time.time, base_url: str | None = None):
        import anthropic  # heavy import on first use
        import httpx2

        key = resolve_api_key(api_key)
        if not key:
            raise MissingAPIKey(f"no Anthropic API key: set {ENV_KEY} (or Streamlit secrets) "
                                "or use the offline analyst (--provider offline)")
        protect(key)
        self.cfg = cfg or load_config()
        c = self.cfg.client
        self._sdk = capped_sdk_class()(
            api_key=key, http_client=http_client, base_url=base_url,
            max_retries=c.max_retries if max_retries is None else max_retries,
            timeout=httpx2.Timeout(timeout or c.timeout_seconds,
                                   connect=min(c.connect_timeout_seconds,
                                               timeout or c.connect_timeout_seconds)),
        )
        self._sdk.max_wait = c.max_retry_wait_seconds
        self._timeout = timeout or c.timeout_seconds
        self._anthropic = anthropic
        self.cache = cache if cache is not None else ResponseCache(cfg=self.cfg)
        self.limiter = limiter or _limiter
        self._breaker_clock = breaker_clock

    def __repr__(self) -> str:  # never show the key
        return "ClaudeClient(api_key=***)"

    @property
    def sdk(self) -> Any:
        """The underlying ``anthropic.Anthropic`` (batch.py uses its Message Batches API)."""
        return self._sdk

    def request_params(self, prompt: str, ctx: MarketContext, *, model_key: str | None = None,
                       proposal: str = "") -> tuple[dict[str, Any], PromptSpec, str, ModelSpec]:
        """The ``messages.create`` arguments of a prompt (also used for batch requests)."""
        spec = self.cfg.prompt(prompt)
        mkey = model_key or spec.model_preference
        model = self.cfg.model(mkey)
        params: dict[str, Any] = {
            "model": model.id,
            "max_tokens": spec.max_tokens,
            "system": system_blocks(self.cfg),
            "messages": [{"role": "user",
                          "content": render(spec, ctx, self.cfg, proposal=proposal)}],
            "output_config": {"format": {"type": "json_schema",
                                         "schema": JSON_SCHEMAS[spec.output]}},
        }
        if model.accepts_temperature:  # older models only: the current API has no sampling
            params["extra_body"] = {"temperature": spec.temperature}
        return params, spec, mkey, model

    def bounds(self, params: dict[str, Any], model: ModelSpec, *,
               batch: bool = False) -> tuple[float, int]:
        """``(maximum cost, input-token bound)`` of ``params``: what is reserved before
        sending (:func:`engine.llm.costs.input_token_bound`, ``max_tokens`` of output)."""
        text = json.dumps(params["system"]) + json.dumps(params["messages"]) + json.dumps(
            params.get("output_config", {}), default=str)
        bound = costs.input_token_bound(text, self.cfg)
        return costs.max_cost(model, bound, params["max_tokens"], batch=batch,
                              batch_discount=self.cfg.cost_management.batch_discount), bound

    def reservation(self, params: dict[str, Any], model: ModelSpec, *,
                    batch: bool = False) -> float:
        """The maximum cost of ``params`` (reserved before sending)."""
        return self.bounds(params, model, batch=batch)[0]

    def call(self, prompt: str, ctx: MarketContext, *, model_key: str | None = None,
             proposal: str = "", use_cache: bool = True) -> CallResult:
        """Run ``prompt`` on ``ctx``; see the module docstring for the steps."""
        params, spec, mkey, model = self.request_params(prompt, ctx, model_key=model_key,
                                                        proposal=proposal)
        res = CallResult(prompt=prompt, prompt_version=spec.version, model_key=mkey,
                         model_id=model.id, provider=self.provider, status="error")
        key = context_key(prompt=prompt, version=spec.version, model_id=model.id, ctx=ctx,
                          extra=proposal, steps=self.cfg.cache_buckets)
        if use_cache:
            hit = self.cache.get(key)
            if hit is not None:
                payload, cost = hit
                try:
                    # cached payloads are on the real scale (mapped back before caching)
                    res.output = validate_payload(spec.output, redact_obj(payload), self.cfg,
                                                  ctx.named)
                except ValidationError:
                    res.output = None
                if res.output is not None:
                    costs.record_cache_hit(model_key=mkey, model_id=model.id, prompt=prompt,
                                           prompt_version=spec.version, symbol=ctx.symbol,
                                           saved_usd=cost)
                    res.status, res.cached, res.saved_usd = "cached", True, cost
                    return res
        breaker = breaker_for(model.id, self.cfg, self._breaker_clock)
        if not breaker.allow():
            res.status = "circuit_open"
            res.error = (f"{model.id} is paused after {breaker.failures} consecutive failures "
                         f"(last: {breaker.last_error or 'unknown'}); next try in "
                         f"{breaker.retry_in():.0f} s")
            return res
        return self._send(params, spec, mkey, model, ctx, res, key, breaker)

    def repair(self, prompt: str, ctx: MarketContext, *, model_key: str | None, reply: str,
               error: str) -> CallResult:
        """The one repair round for a reply that failed validation elsewhere (a batch
        result): the rejected reply and the validation error go back to the same model."""
        params, spec, mkey, model = self.request_params(prompt, ctx, model_key=model_key)
        res = CallResult(prompt=prompt, prompt_version=spec.version, model_key=mkey,
                         model_id=model.id, provider=self.provider, status="error",
                         attempts=1)
        key = context_key(prompt=prompt, version=spec.version, model_id=model.id, ctx=ctx,
                          extra="", steps=self.cfg.cache_buckets)
        breaker = breaker_for(model.id, self.cfg, self._breaker_clock)
        if not breaker.allow():
            res.status = "circuit_open"
            res.error = f"{model.id} is paused; the invalid reply was not repaired ({error})"
            return res
        return self._send(params, spec, mkey, model, ctx, res, key, breaker,
                          rejected=(redact(reply), redact(error)))

    def _create(self, p: dict[str, Any], deadline: float) -> Any:
        """``messages.create`` within the call's deadline (the SDK's retries included)."""
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise CallTooSlow("no time left within client.max_call_seconds; try again later")
        c = self.cfg.client
        per_try = min(self._timeout, left)
        self._sdk.set_deadline(deadline)
        try:
            return self._sdk.messages.create(
                **p, timeout=self._httpx.Timeout(per_try,
                                                 connect=min(c.connect_timeout_seconds,
                                                             per_try)))
        finally:
            self._sdk.set_deadline(None)

    @property
    def _httpx(self) -> Any:
        import httpx2

        return httpx2

    def _send(self, params, spec, mkey, model, ctx, res, key, breaker,
              rejected: tuple[str, str] | None = None) -> CallResult:
        an = self._anthropic
        messages = list(params["messages"])
        attempts: tuple[int, ...] = (1, 2)
        if rejected is not None:  # attempt 1 happened elsewhere: go straight to the repair
            messages, attempts = with_repair(messages, *rejected), (2,)
        deadline = time.monotonic() + self.cfg.client.max_call_seconds
        for attempt in attempts:
            p = dict(params, messages=messages)
            max_cost, input_bound = self.bounds(p, model)
            call_id = costs.reserve(model_key=mkey, spec=model, prompt=res.prompt,
                                    prompt_version=spec.version, symbol=ctx.symbol,
                                    max_cost_usd=max_cost, cfg=self.cfg)
            self.limiter.wait(model.id, model.min_delay_seconds)
            t0 = time.perf_counter()
            try:
                msg = self._create(p, deadline)
            except CallTooSlow as exc:
                return self._failed(res, call_id, model, breaker, "error", t0, str(exc))
            except an.APITimeoutError:
                return self._failed(res, call_id, model, breaker, "timeout", t0,
                                    f"timed out after {self._timeout:g} s "
                                    "(and the SDK's retries); recorded at its reservation, "
                                    "as the API may still bill it", at_reservation=True)
            except an.APIStatusError as exc:
                detail = getattr(exc, "api_message", None) or type(exc).__name__
                return self._failed(res, call_id, model, breaker, "error", t0,
                                    f"HTTP {exc.status_code}: {detail}")
            except an.APIConnectionError as exc:
                return self._failed(res, call_id, model, breaker, "error", t0,
                                    f"connection failed: {type(exc).__name__}")
            except (json.JSONDecodeError, UnicodeDecodeError, an.APIResponseValidationError
                    ) as exc:
                return self._failed(res, call_id, model, breaker, "error", t0,
                                    f"the API's reply is not readable JSON ({type(exc).__name__}:"
                                    f" {str(exc)[:120]}); a proxy or a cut-off response?")
            if not is_message(msg):
                return self._failed(res, call_id, model, breaker, "error", t0,
                                    "the API's reply is not a Messages API message (got "
                                    f"{type(msg).__name__}: {redact(str(msg))[:80]!r}); a "
                                    "proxy or an HTML error page?")
            latency = (time.perf_counter() - t0) * 1000.0
            usage, problems = costs.read_usage(msg.usage)
            text = redact(reply_text(msg))
            try:
                if getattr(msg, "stop_reason", None) == "refusal":
                    raise ValueError("the model refused to answer")
                out = parse_reply(text, spec.output, self.cfg, ctx)
            except ValueError as exc:
                err = str(exc)
                status = "invalid"
                cost = costs.settle(call_id, spec=model, usage=usage, status=status,
                                    latency_ms=latency, attempts=attempt,
                                    error=redact(err), cfg=self.cfg, problems=problems,
                                    max_tokens=p["max_tokens"], input_bound=input_bound)
                res.usage, res.cost_usd = res.usage + usage, res.cost_usd + cost
                res.latency_ms += latency
                res.attempts = attempt
                if attempt == 1:  # one repair round with the validation error
                    messages = with_repair(messages, text, err)
                    continue
                res.status, res.error = "invalid", f"invalid reply after one repair: {err}"
                breaker.failure(res.error)
                log.warning("LLM %s on %s: %s", res.prompt, model.id, res.error)
                return res
            cost = costs.settle(call_id, spec=model, usage=usage, status="ok",
                                latency_ms=latency, attempts=attempt, cfg=self.cfg,
                                problems=problems, max_tokens=p["max_tokens"],
                                input_bound=input_bound)
            breaker.success()
            res.usage, res.cost_usd = res.usage + usage, res.cost_usd + cost
            res.latency_ms += latency
            res.status, res.output, res.attempts, res.error = "ok", out, attempt, ""
            self.cache.put(key, out.model_dump(), cost_usd=res.cost_usd, prompt=res.prompt,
                           model_id=model.id)
            return res
        return res  # pragma: no cover

    def _failed(self, res: CallResult, call_id: int, model: ModelSpec,
                breaker: CircuitBreaker, status: str, t0: float, error: str, *,
                at_reservation: bool = False) -> CallResult:
        error = redact(error)
        latency = (time.perf_counter() - t0) * 1000.0
        cost = costs.settle(call_id, spec=model, usage=costs.Usage(), status=status,
                            latency_ms=latency, attempts=res.attempts + 1, error=error,
                            cfg=self.cfg, at_reservation=at_reservation)
        breaker.failure(error)
        res.status, res.error = status, error
        res.cost_usd += cost
        res.latency_ms += latency
        res.attempts += 1
        log.warning("LLM %s on %s failed: %s", res.prompt, model.id, error)
        return res


__all__ = ["CallResult", "CallTooSlow", "CircuitBreaker", "ClaudeClient", "ENV_KEY",
           "KEY_PATTERN", "MissingAPIKey", "RateLimiter", "breaker_for", "breaker_states",
           "capped_sdk_class", "level_context", "parse_reply", "redact", "redact_obj",
           "render", "reply_text", "reset_breakers", "resolve_api_key", "validate_payload"]
