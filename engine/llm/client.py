"""The Claude client: the official ``anthropic`` SDK plus budget, pacing, breaker and repair.

One :meth:`ClaudeClient.call` does, in order:

1. **Response cache** (:mod:`engine.llm.cache`): a similar query within the TTL is answered
   from the database at zero cost.
2. **Circuit breaker** per model: after ``circuit_failure_threshold`` consecutive failed
   calls the model is not called for ``circuit_reset_seconds``; then one trial call decides
   (success closes it). :func:`breaker_states` reports every model for the System page.
3. **Budget reservation** (:mod:`engine.llm.costs`): the call's maximum cost is reserved
   before sending; a call that would pass a limit raises
   :class:`~engine.llm.costs.BudgetExceeded` and is never sent.
4. **Rate limiter** per model: at least ``min_delay_seconds`` between two call starts.
5. **The request**: static system prompt with a prompt-cache breakpoint, the filled template,
   and the JSON schema of the prompt's output kind as the API's structured output
   (``output_config.format``). Timeouts come from prompts.yaml; **retries are the SDK's own**
   (``max_retries``, exponential backoff that honours ``retry-after`` / ``retry-after-ms``
   on 429, 529 and other 5xx) — nothing is stacked on top of them.
6. **Validation** with pydantic (:mod:`engine.llm.schema`). A malformed or invalid reply is
   sent back once with the validation error; if the second reply is still wrong the call is
   recorded as ``invalid`` and returns no output — a decision is never invented.
7. **Settlement** of the reservation from the reply's ``usage``.

The API key comes from the ``api_key`` argument or ``ANTHROPIC_API_KEY``; it is held only by
the SDK client, never logged, stored or put into an error message (:func:`redact`).
Tests inject ``http_client=httpx2.Client(transport=httpx2.MockTransport(handler))`` (the SDK
is built on ``httpx2``).
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
from engine.llm.cache import ResponseCache, context_key, system_blocks
from engine.llm.context import MarketContext
from engine.llm.prompts import LLMConfig, ModelSpec, PromptSpec, load_config
from engine.llm.schema import JSON_SCHEMAS, validate_output

log = logging.getLogger(__name__)

ENV_KEY = "ANTHROPIC_API_KEY"


class MissingAPIKey(StratLabError):
    """No Anthropic API key was given."""


def resolve_api_key(api_key: str | None = None) -> str | None:
    """The key passed in, else ``ANTHROPIC_API_KEY`` (the ``llm`` settings), else None."""
    return api_key or get_settings().llm.api_key()


_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def redact(text: str) -> str:
    """``text`` with every known API key replaced by ``***``."""
    for s in list(_secrets):
        if s:
            text = text.replace(s, "***")
    return text


_factory_installed = False


def _install_record_factory() -> None:
    """Redact known keys in every log record of the process (any logger, any handler)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            try:
                msg = record.getMessage()
            except Exception:  # a malformed log call: leave it to logging's own handling
                return record
            clean = redact(msg)
            if clean != msg:
                record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def _protect(key: str) -> None:
    with _secrets_lock:
        _secrets.add(key)
        _install_record_factory()


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


# ----------------------------------------------------------------- pacing and breaking

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


class CircuitBreaker:
    """closed → (threshold consecutive failures) → open → (reset time) → half-open → …"""

    def __init__(self, threshold: int, reset_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.threshold, self.reset_seconds, self._clock = threshold, reset_seconds, clock
        self.failures = 0
        self.opened_at: float | None = None
        self.last_error = ""
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self.opened_at >= self.reset_seconds else "open"

    def allow(self) -> bool:
        return self.state != "open"

    def success(self) -> None:
        with self._lock:
            self.failures, self.opened_at, self.last_error = 0, None, ""

    def failure(self, error: str = "") -> None:
        with self._lock:
            self.failures += 1
            self.last_error = error[:300]
            if self.failures >= self.threshold or self.opened_at is not None:
                self.opened_at = self._clock()

    def retry_in(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset_seconds - (self._clock() - self.opened_at))


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(model_id: str, cfg: LLMConfig | None = None,
                clock: Callable[[], float] = time.monotonic) -> CircuitBreaker:
    """The process-wide breaker of ``model_id``."""
    cfg = cfg or load_config()
    with _breakers_lock:
        b = _breakers.get(model_id)
        if b is None:
            b = _breakers[model_id] = CircuitBreaker(cfg.client.circuit_failure_threshold,
                                                     cfg.client.circuit_reset_seconds, clock)
        return b


def breaker_states() -> list[dict[str, Any]]:
    """Every model's breaker: ``{"model", "state", "failures", "retry_in_s", "last_error"}``
    (for the System page)."""
    with _breakers_lock:
        items = list(_breakers.items())
    return [{"model": m, "state": b.state, "failures": b.failures,
             "retry_in_s": round(b.retry_in(), 1), "last_error": b.last_error}
            for m, b in sorted(items)]


def reset_breakers() -> None:
    with _breakers_lock:
        _breakers.clear()


_limiter = RateLimiter()


# -------------------------------------------------------------------------- the client

def render(spec: PromptSpec, ctx: MarketContext, cfg: LLMConfig, *,
           proposal: str = "") -> str:
    """The user message: the prompt's template filled from the snapshot."""
    return spec.template.format(
        symbol=ctx.symbol, as_of=f"{ctx.as_of:%Y-%m-%d}", context=ctx.text(),
        regime=ctx.regime, proposal=proposal or "(none)",
        max_penalty=f"{cfg.consensus.contrarian_max_penalty:g}",
        max_position_size=f"{cfg.risk.max_position_size:g}")


def reply_text(message: Any) -> str:
    """The text blocks of a reply joined (thinking blocks are skipped)."""
    return "".join(getattr(b, "text", "") for b in (message.content or [])
                   if getattr(b, "type", "") == "text").strip()


def parse_reply(text: str, kind: str, cfg: LLMConfig) -> BaseModel:
    """JSON text → validated output; raises ValueError with a short reason."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the reply is not valid JSON ({exc.msg} at position {exc.pos})") from None
    try:
        return validate_output(kind, data, max_position_size=cfg.risk.max_position_size,
                               max_penalty=cfg.consensus.contrarian_max_penalty)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}"
                            for e in exc.errors()[:4])
        raise ValueError(f"the JSON does not match the schema ({reasons})") from None


def _with_repair(messages: list[dict[str, Any]], reply: str, error: str
                 ) -> list[dict[str, Any]]:
    """The conversation plus the rejected reply and the validation error to fix."""
    return [*messages, {"role": "assistant", "content": reply or "(empty)"},
            {"role": "user", "content": f"Your reply was rejected: {error}. Reply again with "
             "only the corrected JSON object that follows the schema and the rules."}]


class ClaudeClient:
    """Calls Claude models for the lab's prompts (see the module docstring)."""

    provider = "anthropic"

    def __init__(self, api_key: str | None = None, *, http_client: Any = None,
                 cfg: LLMConfig | None = None, max_retries: int | None = None,
                 timeout: float | None = None, cache: ResponseCache | None = None,
                 limiter: RateLimiter | None = None,
                 breaker_clock: Callable[[], float] = time.monotonic):
        import anthropic  # heavy import on first use
        import httpx2

        key = resolve_api_key(api_key)
        if not key:
            raise MissingAPIKey(f"no Anthropic API key: set {ENV_KEY} (or Streamlit secrets) "
                                "or use the offline analyst (--provider offline)")
        _protect(key)
        self.cfg = cfg or load_config()
        c = self.cfg.client
        self._sdk = anthropic.Anthropic(
            api_key=key, http_client=http_client,
            max_retries=c.max_retries if max_retries is None else max_retries,
            timeout=httpx2.Timeout(timeout or c.timeout_seconds,
                                   connect=min(c.connect_timeout_seconds,
                                               timeout or c.connect_timeout_seconds)),
        )
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

    def reservation(self, params: dict[str, Any], model: ModelSpec, *,
                    batch: bool = False) -> float:
        """The maximum cost of ``params`` (reserved before sending)."""
        text = json.dumps(params["system"]) + json.dumps(params["messages"]) + json.dumps(
            params.get("output_config", {}), default=str)
        return costs.max_cost(model, costs.estimate_tokens(text, self.cfg), params["max_tokens"],
                              batch=batch, batch_discount=self.cfg.cost_management.batch_discount)

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
                    res.output = validate_output(
                        spec.output, payload, max_position_size=self.cfg.risk.max_position_size,
                        max_penalty=self.cfg.consensus.contrarian_max_penalty)
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
                          rejected=(reply, error))

    def _send(self, params, spec, mkey, model, ctx, res, key, breaker,
              rejected: tuple[str, str] | None = None) -> CallResult:
        an = self._anthropic
        messages = list(params["messages"])
        attempts: tuple[int, ...] = (1, 2)
        if rejected is not None:  # attempt 1 happened elsewhere: go straight to the repair
            messages, attempts = _with_repair(messages, *rejected), (2,)
        for attempt in attempts:
            p = dict(params, messages=messages)
            call_id = costs.reserve(model_key=mkey, spec=model, prompt=res.prompt,
                                    prompt_version=spec.version, symbol=ctx.symbol,
                                    max_cost_usd=self.reservation(p, model), cfg=self.cfg)
            self.limiter.wait(model.id, model.min_delay_seconds)
            t0 = time.perf_counter()
            try:
                msg = self._sdk.messages.create(**p)
            except an.APITimeoutError:
                return self._failed(res, call_id, model, breaker, "timeout", t0,
                                    f"timed out after {self.cfg.client.timeout_seconds:g} s "
                                    "(and the SDK's retries)")
            except an.APIStatusError as exc:
                detail = getattr(exc, "api_message", None) or type(exc).__name__
                return self._failed(res, call_id, model, breaker, "error", t0,
                                    f"HTTP {exc.status_code}: {detail}")
            except an.APIConnectionError as exc:
                return self._failed(res, call_id, model, breaker, "error", t0,
                                    f"connection failed: {type(exc).__name__}")
            latency = (time.perf_counter() - t0) * 1000.0
            usage = costs.Usage.from_api(msg.usage)
            text = reply_text(msg)
            try:
                if getattr(msg, "stop_reason", None) == "refusal":
                    raise ValueError("the model refused to answer")
                out = parse_reply(text, spec.output, self.cfg)
            except ValueError as exc:
                err = str(exc)
                status = "invalid"
                cost = costs.settle(call_id, spec=model, usage=usage, status=status,
                                    latency_ms=latency, attempts=attempt,
                                    error=redact(err), cfg=self.cfg)
                res.usage, res.cost_usd = res.usage + usage, res.cost_usd + cost
                res.latency_ms += latency
                res.attempts = attempt
                if attempt == 1:  # one repair round with the validation error
                    messages = _with_repair(messages, text, err)
                    continue
                res.status, res.error = "invalid", f"invalid reply after one repair: {err}"
                breaker.failure(res.error)
                log.warning("LLM %s on %s: %s", res.prompt, model.id, res.error)
                return res
            cost = costs.settle(call_id, spec=model, usage=usage, status="ok",
                                latency_ms=latency, attempts=attempt, cfg=self.cfg)
            breaker.success()
            res.usage, res.cost_usd = res.usage + usage, res.cost_usd + cost
            res.latency_ms += latency
            res.status, res.output, res.attempts, res.error = "ok", out, attempt, ""
            self.cache.put(key, out.model_dump(), cost_usd=res.cost_usd, prompt=res.prompt,
                           model_id=model.id)
            return res
        return res  # pragma: no cover

    def _failed(self, res: CallResult, call_id: int, model: ModelSpec,
                breaker: CircuitBreaker, status: str, t0: float, error: str) -> CallResult:
        error = redact(error)
        latency = (time.perf_counter() - t0) * 1000.0
        costs.settle(call_id, spec=model, usage=costs.Usage(), status=status,
                     latency_ms=latency, attempts=res.attempts + 1, error=error, cfg=self.cfg)
        breaker.failure(error)
        res.status, res.error = status, error
        res.latency_ms += latency
        res.attempts += 1
        log.warning("LLM %s on %s failed: %s", res.prompt, model.id, error)
        return res


__all__ = ["CallResult", "CircuitBreaker", "ClaudeClient", "ENV_KEY", "MissingAPIKey",
           "RateLimiter", "breaker_for", "breaker_states", "parse_reply", "redact", "render",
           "reply_text", "reset_breakers", "resolve_api_key"]
