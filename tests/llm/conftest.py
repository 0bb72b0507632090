"""Fixtures for the LLM tests: a fake Anthropic API behind the real SDK (httpx2.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import pytest

from engine.llm import client as client_mod
from engine.llm.client import ClaudeClient, RateLimiter
from engine.llm.context import MarketContext

SECRET = "sk-ant-test-SECRET-7f3a9c1e5b"


def decision_json(decision: str = "BUY", confidence: float = 72, entry: float = 100.0,
                  stop: float | None = 95.0, target: float | None = 110.0,
                  size: float = 0.05, **extra: Any) -> str:
    doc = {"decision": decision, "confidence": confidence, "entry_price": entry,
           "stop_loss": stop, "take_profit": target, "risk_reward_ratio": 2.0,
           "position_size_suggestion": size, "reasoning": "test reasoning",
           "key_risks": ["test risk"], "timeframe": "swing", **extra}
    return json.dumps(doc)


def message(text: str, *, model: str = "claude-sonnet-5-5", usage: tuple = (1000, 200, 0, 0),
            stop_reason: str = "end_turn") -> dict[str, Any]:
    i, o, cw, cr = usage
    return {"id": "msg_test", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": i, "output_tokens": o, "cache_creation_input_tokens": cw,
                      "cache_read_input_tokens": cr}}


class FakeAPI:
    """A scripted Anthropic API: ``responses`` are httpx2.Response objects, exceptions, or
    callables(request) -> Response, consumed in order (the last one repeats)."""

    def __init__(self, *responses: Any):
        self.responses = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        r = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(r, BaseException):
            raise r
        if callable(r) and not isinstance(r, httpx2.Response):
            return r(request)
        return r

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.content]

    def http_client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self))


def ok(text: str, **kw: Any) -> httpx2.Response:
    return httpx2.Response(200, json=message(text, **kw))


def err(status: int, headers: dict[str, str] | None = None, msg: str = "boom") -> httpx2.Response:
    kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
    return httpx2.Response(status, headers=headers or {},
                           json={"type": "error", "error": {"type": kind, "message": msg}})


@pytest.fixture(autouse=True)
def fast_sdk(monkeypatch):
    """Tiny SDK backoff (retries stay real), fresh breakers, the key unset by default."""
    monkeypatch.setattr(anthropic._base_client, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(anthropic._base_client, "MAX_RETRY_DELAY", 0.005)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    client_mod.reset_breakers()
    yield
    client_mod.reset_breakers()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps) -> Callable[..., ClaudeClient]:
    """``make_client(api, **kw)`` → a ClaudeClient on the fake API, no real pacing sleeps."""

    def make(api: FakeAPI, **kw: Any) -> ClaudeClient:
        kw.setdefault("max_retries", 3)
        clock = [0.0]

        def sleep(s: float) -> None:  # a fake clock: sleeping advances it, instantly
            sleeps.append(s)
            clock[0] += s

        kw.setdefault("limiter", RateLimiter(clock=lambda: clock[0], sleep=sleep))
        return ClaudeClient(SECRET, http_client=api.http_client(), **kw)

    return make


def make_ctx(close: float = 100.0, symbol: str = "TEST", rsi: float = 55.0,
             regime: str = "bull") -> MarketContext:
    from datetime import datetime

    # only the close moves with ``close``: the other levels stay put, so nearby closes
    # land in the same cache buckets
    vals = {"close": close, "sma20": 99.0, "sma50": 97.0,
            "bb_upper": 103.0, "bb_lower": 95.0, "atr14": 2.0,
            "ret_1d_pct": 0.4, "ret_5d_pct": 1.2, "ret_20d_pct": 4.1, "dist_sma50_pct": 3.1,
            "atr_pct": 2.0, "macd_hist_pct": 0.21, "volatility_pct": 18.0, "rsi14": rsi,
            "bb_pct_b": 0.7, "volume_ratio": 1.2, "trend_strength": 0.8}
    return MarketContext(symbol=symbol, as_of=datetime(2024, 3, 1), price=close, regime=regime,
                         values=vals, n_bars=500)


@pytest.fixture
def ctx() -> MarketContext:
    return make_ctx()
