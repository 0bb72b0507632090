"""Budget reservation under concurrency, the response cache, prompt caching, batches."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import httpx2
import pytest
from sqlmodel import select

from engine import db
from engine.llm import costs
from engine.llm.batch import BatchItem, run_batch
from engine.llm.cache import ResponseCache, bucket, context_key
from engine.llm.prompts import load_config
from engine.llm.tables import LLMCall
from engine.tables import utcnow
from tests.llm.conftest import FakeAPI, decision_json, make_ctx, message, ok


def _with_limits(daily: float, monthly: float = 100.0):
    cfg = load_config()
    cm = cfg.cost_management.model_copy(update={"daily_limit_usd": daily,
                                                "monthly_limit_usd": monthly})
    return cfg.model_copy(update={"cost_management": cm})


def test_price_and_max_cost_from_prompts_yaml():
    cfg = load_config()
    haiku = cfg.model("haiku")
    u = costs.Usage(2000, 300, 1000, 4000)
    assert costs.price(haiku, u) == pytest.approx((2000 * .1 + 300 * .5 + 1000 * .125
                                                   + 4000 * .01) / 1e6)
    assert costs.price(haiku, u, batch=True) == pytest.approx(costs.price(haiku, u) / 2)
    assert costs.max_cost(haiku, 2000, 500) == pytest.approx((2000 * .125 + 500 * .5) / 1e6)


def test_eight_threads_never_exceed_the_daily_budget():
    cfg = _with_limits(daily=1.0)
    spec = cfg.model("sonnet")
    granted, refused = [], []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            try:
                cid = costs.reserve(model_key="sonnet", spec=spec, prompt="p",
                                    prompt_version="1", max_cost_usd=0.07, cfg=cfg)
            except costs.BudgetExceeded as exc:
                with lock:
                    refused.append(str(exc))
                continue
            # worst case: the reply costs exactly what was reserved
            costs.settle(cid, spec=spec, usage=costs.Usage(7000, 5600), cfg=cfg)
            with lock:
                granted.append(cid)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    today, month = costs.spend()
    assert len(granted) == 14  # floor(1.00 / 0.07): the budget is used, never passed
    assert today == pytest.approx(14 * 0.07) and today <= 1.0
    assert len(refused) == 80 - 14
    assert "daily limit" in refused[0] and "prompts.yaml" in refused[0]
    with db.session_scope() as s:
        statuses = [r.status for r in s.exec(select(LLMCall))]
    assert statuses.count("refused") == 66 and statuses.count("ok") == 14


def test_concurrent_client_calls_stay_within_budget(make_client):
    """Eight threads through the whole client: reservations stop the ones that could overshoot."""
    cfg = _with_limits(daily=0.06)
    api = FakeAPI(ok(decision_json(), usage=(1500, 1200, 0, 0)))  # ≈ 0.015 USD each
    client = make_client(api, cfg=cfg)
    results, errors = [], []

    def worker(i):
        try:
            # closes within the entry band of the reply's entry of 100 (no repair rounds)
            results.append(client.call("master_analyst", make_ctx(100 + 0.5 * i),
                                       use_cache=False))
        except costs.BudgetExceeded as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    today, _ = costs.spend()
    assert today <= 0.06 and errors and results
    assert len(api.requests) == len(results)  # refused calls were never sent


def test_monthly_limit_refuses_too():
    cfg = _with_limits(daily=5.0, monthly=5.0)
    spec = cfg.model("haiku")
    costs.reserve(model_key="haiku", spec=spec, prompt="p", prompt_version="1",
                  max_cost_usd=4.99, cfg=cfg)
    with pytest.raises(costs.BudgetExceeded, match="daily limit"):
        costs.reserve(model_key="haiku", spec=spec, prompt="p", prompt_version="1",
                      max_cost_usd=0.02, cfg=cfg)
    cfg2 = _with_limits(daily=50.0, monthly=5.0)
    with pytest.raises(costs.BudgetExceeded, match="monthly limit"):
        costs.reserve(model_key="haiku", spec=spec, prompt="p", prompt_version="1",
                      max_cost_usd=0.02, cfg=cfg2)


def test_buckets_follow_the_documented_steps():
    steps = load_config().cache_buckets
    assert bucket(100.0, "price", steps) == bucket(100.2, "price", steps)
    assert bucket(100.0, "price", steps) != bucket(101.0, "price", steps)
    assert bucket(56.0, "osc", steps) == bucket(59.0, "osc", steps) == 11
    assert bucket(1.2, "pct", steps) == 2 and bucket(-0.2, "pct", steps) == -1
    assert bucket(None, "pct", steps) is None
    a = context_key(prompt="p", version="1", model_id="m", ctx=make_ctx(100.0))
    b = context_key(prompt="p", version="1", model_id="m", ctx=make_ctx(100.1))
    c = context_key(prompt="p", version="1", model_id="m", ctx=make_ctx(103.0))
    d = context_key(prompt="p", version="2", model_id="m", ctx=make_ctx(100.0))
    assert a == b and a != c and a != d


def test_similar_query_hits_the_cache_and_misses_after_ttl(make_client):
    now = [utcnow()]
    cache = ResponseCache(clock=lambda: now[0])
    api = FakeAPI(ok(decision_json(), usage=(1000, 200, 0, 0)))
    client = make_client(api, cache=cache)
    first = client.call("master_analyst", make_ctx(100.0))
    assert first.status == "ok" and not first.cached
    similar = client.call("master_analyst", make_ctx(100.1, rsi=56.0))  # same buckets
    assert similar.cached and similar.status == "cached" and similar.cost_usd == 0
    assert similar.saved_usd == first.cost_usd
    assert similar.output == first.output
    assert len(api.requests) == 1
    different = client.call("master_analyst", make_ctx(104.0))
    assert not different.cached and len(api.requests) == 2
    now[0] += timedelta(seconds=load_config().cost_management.cache_ttl_seconds + 1)
    expired = client.call("master_analyst", make_ctx(100.0))
    assert not expired.cached and len(api.requests) == 3
    summary = costs.cost_summary()
    assert summary["cache_hits"] == 1 and summary["calls"] == 3
    assert summary["cache_hit_rate"] == pytest.approx(1 / 4)
    assert summary["saved_usd"] == pytest.approx(first.cost_usd)
    assert cache.purge() >= 1


class FakeBatches:
    """The Message Batches endpoints: create → retrieve (in progress, then ended) → results."""

    def __init__(self, replies: dict[int, dict]):
        self.replies, self.polls, self.created = replies, 0, None

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        base = {"id": "msgbatch_1", "type": "message_batch", "created_at": "2026-01-01T00:00:00Z",
                "expires_at": "2026-01-02T00:00:00Z", "archived_at": None,
                "cancel_initiated_at": None, "ended_at": None, "results_url": None,
                "processing_status": "in_progress"}
        if request.method == "POST" and path == "/v1/messages/batches":
            self.created = json.loads(request.content)
            n = len(self.created["requests"])
            return httpx2.Response(200, json={**base, "request_counts": {**counts,
                                                                         "processing": n}})
        if request.method == "GET" and path == "/v1/messages/batches/msgbatch_1":
            self.polls += 1
            n = len(self.created["requests"])
            if self.polls < 2:
                return httpx2.Response(200, json={**base, "request_counts": {
                    **counts, "processing": n}})
            return httpx2.Response(200, json={
                **base, "processing_status": "ended", "ended_at": "2026-01-01T01:00:00Z",
                "results_url": "https://api.anthropic.com/v1/messages/batches/msgbatch_1/results",
                "request_counts": {**counts, "succeeded": n - 1, "errored": 1}})
        if path.endswith("/results"):
            lines = []
            for i, req in enumerate(self.created["requests"]):
                if i in self.replies:
                    result = {"type": "succeeded", "message": self.replies[i]}
                else:
                    result = {"type": "errored", "error": {"type": "error", "error": {
                        "type": "api_error", "message": "internal"}}}
                lines.append(json.dumps({"custom_id": req["custom_id"], "result": result}))
            return httpx2.Response(200, content="\n".join(lines).encode(),
                                   headers={"content-type": "application/binary"})
        return httpx2.Response(404, json={"type": "error", "error": {"type": "not_found_error",
                                                                      "message": path}})


def test_batch_submit_poll_results_at_half_price(make_client):
    fake = FakeBatches({0: message(decision_json(), model="claude-haiku-5-5",
                                   usage=(2000, 400, 0, 0)),
                        1: message(decision_json("SELL", entry=101, stop=105, target=95),
                                   model="claude-haiku-5-5", usage=(2000, 300, 0, 0))})
    api = FakeAPI(fake)
    client = make_client(api)
    items = [BatchItem(f"{i}-S{i}", "master_analyst", make_ctx(100 + i, symbol=f"S{i}"),
                       "haiku") for i in range(3)]
    progress = []
    res = run_batch(client, items, interval=0.0, sleep=lambda s: None,
                    on_progress=lambda d, t, m="": progress.append((d, t)))
    # two polls (in progress, ended), then results() reads the batch for its results_url
    assert fake.polls == 3 and len(fake.created["requests"]) == 3
    req0 = fake.created["requests"][0]
    assert req0["custom_id"] == "0-S0" and req0["params"]["model"] == "claude-haiku-5-5"
    assert req0["params"]["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert res["0-S0"].output.decision == "BUY" and res["1-S1"].output.decision == "SELL"
    assert res["2-S2"].status == "error" and res["2-S2"].output is None
    haiku = load_config().model("haiku")
    assert res["0-S0"].cost_usd == pytest.approx((2000 * .1 + 400 * .5) / 1e6 * 0.5)
    with db.session_scope() as s:
        rows = list(s.exec(select(LLMCall).order_by(LLMCall.id)))
    assert [r.batch for r in rows] == [True] * 3
    assert [r.status for r in rows] == ["ok", "ok", "error"]
    assert rows[2].cost_usd == 0.0 and haiku.id == rows[0].model_id
    assert progress[-1][0] == progress[-1][1]


def test_screen_with_batch_escalates_the_promising(make_client, monkeypatch):
    from engine.llm.analyst import screen

    # levels plausible against SYN-TREND's last close, 256.84 (ATR 3.97)
    strong = decision_json(confidence=80, entry=256.8, stop=250, target=270, size=0.08)
    fake = FakeBatches({0: message(strong, model="claude-haiku-5-5"),
                        1: message(decision_json("HOLD", confidence=55, stop=None,
                                                 target=None, size=0.0),
                                   model="claude-haiku-5-5")})
    api = FakeAPI(fake)
    rows = screen(["SYN-TREND", "SYN-RANGE", "SYN-VOLATILE"], batch=True,
                  client=make_client(api), batch_sleep=lambda s: None)
    by = {r["symbol"]: r for r in rows}
    # the BUY at 80 went screening → analysis (Sonnet) → deep (Opus: confident and sized)
    assert by["SYN-TREND"]["tier"] == "deep"
    assert by["SYN-TREND"]["models"] == ["claude-haiku-5-5", "claude-opus-5-5",
                                         "claude-sonnet-5-5"]
    assert by["SYN-RANGE"]["tier"] == "screening" and by["SYN-RANGE"]["decision"] == "HOLD"
    assert by["SYN-VOLATILE"]["decision"] is None and by["SYN-VOLATILE"]["error"]
    assert rows[0]["symbol"] == "SYN-TREND" and rows[0]["rank"] == 1
    # each tier was one batch (half price): screening (3 symbols), analysis (1), deep (1)
    posts = [r for r in api.requests if r.method == "POST"]
    assert [len(json.loads(r.content)["requests"]) for r in posts] == [3, 1, 1]
    assert all("/batches" in r.url.path for r in posts)
    with db.session_scope() as s:
        assert all(r.batch for r in s.exec(select(LLMCall)))


def test_invalid_batch_reply_gets_one_repair_round_then_fails_honestly(make_client):
    from tests.llm.conftest import ok

    bad = '{"decision": "BUY", "confidence": 75}'  # no prices: fails validation
    fake = FakeBatches({0: message(bad, model="claude-haiku-5-5", usage=(2000, 50, 0, 0)),
                        1: message(bad, model="claude-haiku-5-5", usage=(2000, 50, 0, 0))})
    repaired = ok(decision_json(), model="claude-haiku-5-5", usage=(2100, 400, 0, 0))

    def route(request):
        if request.url.path == "/v1/messages":  # the repair call, sent on its own
            body = json.loads(request.content)
            assert body["messages"][-1]["content"].startswith("Your reply was rejected")
            assert body["messages"][-2] == {"role": "assistant", "content": bad}
            return repaired if "S0" in json.dumps(body) else ok(bad, model="claude-haiku-5-5")
        return fake(request)

    api = FakeAPI(route)
    client = make_client(api)
    items = [BatchItem(f"{i}-S{i}", "master_analyst", make_ctx(100 + i, symbol=f"S{i}"),
                       "haiku") for i in range(2)]
    res = run_batch(client, items, interval=0.0, sleep=lambda s: None)
    assert res["0-S0"].status == "ok" and res["0-S0"].attempts == 2
    assert res["0-S0"].output.decision == "BUY"
    # cost = the batch reply at half price + the repair at full price
    batch_part = (2000 * .1 + 50 * .5) / 1e6 * 0.5
    repair_part = (2100 * .1 + 400 * .5) / 1e6
    assert res["0-S0"].cost_usd == pytest.approx(batch_part + repair_part)
    assert res["1-S1"].status == "invalid" and res["1-S1"].output is None
    assert "after one repair" in res["1-S1"].error
