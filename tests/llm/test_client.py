"""The Claude client through the real SDK over httpx2.MockTransport: cost, retries, breaker,
timeout, structured output and the one repair round."""

from __future__ import annotations

import json

import anthropic
import httpx2
from sqlmodel import select

from engine import db
from engine.llm import client as client_mod
from engine.llm.client import breaker_states
from engine.llm.prompts import load_config
from engine.llm.tables import LLMCall
from tests.llm.conftest import FakeAPI, decision_json, err, ok


def _calls() -> list[LLMCall]:
    with db.session_scope() as s:
        return list(s.exec(select(LLMCall).order_by(LLMCall.id)))


def test_success_with_usage_prices_exactly(make_client, ctx):
    api = FakeAPI(ok(decision_json(), usage=(1000, 200, 500, 2000)))
    res = make_client(api).call("master_analyst", ctx, use_cache=False)
    assert res.status == "ok" and res.output.decision == "BUY"
    # sonnet: 1000·2 + 200·10 + 500·2.5 (cache write) + 2000·0.1 (cache read), per million
    expected = (1000 * 2.0 + 200 * 10.0 + 500 * 2.5 + 2000 * 0.1) / 1e6
    assert res.cost_usd == expected == 0.00545
    rows = _calls()
    assert len(rows) == 1 and rows[0].status == "ok" and rows[0].cost_usd == expected
    assert rows[0].reserved_usd >= expected  # the reservation covered the worst case
    assert (rows[0].input_tokens, rows[0].output_tokens, rows[0].cache_creation_tokens,
            rows[0].cache_read_tokens) == (1000, 200, 500, 2000)
    body = api.bodies()[0]
    assert body["model"] == "claude-sonnet-5-5" and body["max_tokens"] == 1200
    assert "temperature" not in body  # the current Messages API has no sampling parameters
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}  # prompt caching
    fmt = body["output_config"]["format"]
    assert fmt["type"] == "json_schema" and "stop_loss" in fmt["schema"]["properties"]
    assert "TEST" in body["messages"][0]["content"]


def test_429_529_500_are_retried_by_the_sdk_honouring_retry_after(make_client, ctx,
                                                                  monkeypatch):
    waits: list[float] = []
    orig = anthropic.Anthropic._calculate_retry_timeout

    def spy(self, *a, **kw):
        t = orig(self, *a, **kw)
        waits.append(t)
        return t

    monkeypatch.setattr(anthropic.Anthropic, "_calculate_retry_timeout", spy)
    api = FakeAPI(err(429, {"retry-after": "0.02"}), err(529), err(500),
                  ok(decision_json(), usage=(800, 100, 0, 0)))
    res = make_client(api, max_retries=3).call("master_analyst", ctx, use_cache=False)
    assert res.status == "ok"
    assert len(api.requests) == 4
    assert waits[0] == 0.02  # the 429's retry-after was honoured
    assert all(w <= 0.01 for w in waits[1:])  # exponential backoff (made tiny in tests)
    rows = _calls()
    assert [r.status for r in rows] == ["ok"]  # one logical call, one settled row
    assert rows[0].cost_usd == (800 * 2.0 + 100 * 10.0) / 1e6


def test_persistent_failure_opens_the_circuit(make_client, ctx):
    now = [1000.0]
    api = FakeAPI(err(500))
    client = make_client(api, max_retries=1, breaker_clock=lambda: now[0])
    threshold = load_config().client.circuit_failure_threshold
    for _ in range(threshold):
        res = client.call("master_analyst", ctx, use_cache=False)
        assert res.status == "error" and res.output is None and "HTTP 500" in res.error
    sent = len(api.requests)
    assert sent == threshold * 2  # each call: the request and the SDK's one retry
    res = client.call("master_analyst", ctx, use_cache=False)
    assert res.status == "circuit_open" and "paused" in res.error
    assert len(api.requests) == sent  # not called while open
    state = {b["model"]: b for b in breaker_states(clock=lambda: now[0])}["claude-sonnet-5-5"]
    assert state["state"] == "open" and state["failures"] == threshold
    # after the reset time one trial call goes through; success closes the circuit
    now[0] += load_config().client.circuit_reset_seconds + 1
    api.responses = [ok(decision_json())]
    assert client.call("master_analyst", ctx, use_cache=False).status == "ok"
    assert {b["model"]: b for b in breaker_states()}["claude-sonnet-5-5"]["state"] == "closed"
    # other models were never affected
    assert client_mod.breaker_for("claude-haiku-5-5").state == "closed"


def test_timeout_is_recorded_as_a_failure(make_client, ctx):
    api = FakeAPI(httpx2.ReadTimeout("slow"))
    res = make_client(api, max_retries=1, timeout=0.5).call("master_analyst", ctx,
                                                             use_cache=False)
    assert res.status == "timeout" and res.output is None and "timed out" in res.error
    assert len(api.requests) == 2  # the SDK retried the timeout once
    rows = _calls()
    # the API may bill a request that timed out: recorded at its reservation, as an estimate
    assert [(r.status, r.cost_usd, r.estimated) for r in rows] == [
        ("timeout", rows[0].reserved_usd, True)]
    assert rows[0].reserved_usd > 0 and res.cost_usd == rows[0].reserved_usd
    assert "reservation" in res.error


def test_malformed_reply_is_repaired_once(make_client, ctx):
    api = FakeAPI(ok("Sure! Here is my view: BUY", usage=(900, 50, 0, 0)),
                  ok(decision_json(), usage=(1000, 150, 0, 0)))
    res = make_client(api).call("master_analyst", ctx, use_cache=False)
    assert res.status == "ok" and res.attempts == 2
    second = api.bodies()[1]["messages"]
    assert second[1] == {"role": "assistant", "content": "Sure! Here is my view: BUY"}
    assert "not valid JSON" in second[2]["content"]
    assert [r.status for r in _calls()] == ["invalid", "ok"]
    assert res.cost_usd == (900 * 2 + 50 * 10 + 1000 * 2 + 150 * 10) / 1e6  # both billed


def test_invalid_twice_is_a_failure_and_no_decision_is_invented(make_client, ctx):
    bad = decision_json("BUY", entry=100.0, stop=105.0, target=110.0)  # stop above entry
    api = FakeAPI(ok(bad), ok(bad))
    client = make_client(api)
    res = client.call("master_analyst", ctx, use_cache=False)
    assert res.status == "invalid" and res.output is None
    assert "stop_loss < entry_price < take_profit" in res.error
    assert len(api.requests) == 2
    assert "stop_loss < entry_price" in api.bodies()[1]["messages"][2]["content"]
    assert [r.status for r in _calls()] == ["invalid", "invalid"]


def test_analyze_with_a_failing_model_records_no_decision(make_client, monkeypatch):
    from engine.llm.analyst import analyze
    from engine.llm.tracking import list_decisions

    api = FakeAPI(ok("{not json"), ok("{still not json"))
    doc = analyze("SYN-TREND", client=make_client(api))
    assert doc["decision"] is None and "invalid" in doc["error"]
    assert doc["provider"] == "anthropic" and not doc["actionable"]
    assert list_decisions() == []


def test_position_size_above_the_maximum_is_rejected(make_client, ctx):
    api = FakeAPI(ok(decision_json(size=0.5)), ok(decision_json(size=0.08)))
    res = make_client(api).call("master_analyst", ctx, use_cache=False)
    assert res.ok and res.output.position_size_suggestion == 0.08
    assert "above the maximum" in api.bodies()[1]["messages"][2]["content"]


def test_rate_limiter_spaces_calls_per_model(make_client, ctx, sleeps):
    api = FakeAPI(ok(decision_json()))
    client = make_client(api)
    for _ in range(3):
        client.call("master_analyst", ctx, use_cache=False)
    assert sleeps == [0.5, 0.5]  # sonnet: min_delay_seconds 0.5 between call starts


def test_opus_reply_with_thinking_blocks_is_parsed(make_client, ctx):
    def reply(request):
        body = json.loads(request.content)
        m = {"id": "m", "type": "message", "role": "assistant", "model": body["model"],
             "content": [{"type": "thinking", "thinking": "", "signature": "s"},
                         {"type": "text", "text": decision_json()}],
             "stop_reason": "end_turn", "stop_sequence": None,
             "usage": {"input_tokens": 10, "output_tokens": 10}}
        return httpx2.Response(200, json=m)

    api = FakeAPI(reply)
    res = make_client(api).call("master_analyst", ctx, model_key="opus", use_cache=False)
    assert res.ok and res.model_id == "claude-opus-5-5"
