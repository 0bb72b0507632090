"""Fault injection: the real ``anthropic`` SDK against a loopback stand-in of the Messages API
(tests/llm/standin.py) — bodies that are not JSON, huge retry-after, usage the budget cannot
believe, absurd levels, batch polls that fail, a reply echoing the key, a slow server.

Each test names the defect of issue 9 it pins and what the code before the fix did.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from engine import db
from engine.config import get_settings
from engine.llm import costs
from engine.llm.breaker import breaker_for
from engine.llm.client import ClaudeClient, RateLimiter
from engine.llm.prompts import load_config
from engine.llm.tables import AIDecision, LLMCall, LLMResponseCache
from tests.llm.conftest import SECRET, decision_json, make_ctx
from tests.llm.standin import (
    Reply,
    StandIn,
    api_error,
    batch_doc,
    json_reply,
    message,
)

SONNET = "claude-sonnet-5-5"


def cfg_with(**sections: dict[str, Any]):
    """prompts.yaml's configuration with some keys of some sections replaced."""
    cfg = load_config()
    update = {name: getattr(cfg, name).model_copy(update=keys)
              for name, keys in sections.items()}
    return cfg.model_copy(update=update)


@pytest.fixture
def srv():
    with StandIn() as s:
        yield s


def client_for(srv: StandIn, cfg=None, **kw: Any) -> ClaudeClient:
    kw.setdefault("max_retries", 0)
    kw.setdefault("limiter", RateLimiter(clock=lambda: 0.0, sleep=lambda s: None))
    return ClaudeClient(SECRET, base_url=srv.url, cfg=cfg or load_config(), **kw)


def rows() -> list[LLMCall]:
    with db.session_scope() as s:
        return list(s.exec(select(LLMCall).order_by(LLMCall.id)))


def usage(i: Any = 1000, o: Any = 200, cw: Any = 0, cr: Any = 0) -> dict[str, Any]:
    return {"input_tokens": i, "output_tokens": o, "cache_creation_input_tokens": cw,
            "cache_read_input_tokens": cr}


# ------------------------------------------------------------- 1. a 200 that is not JSON

@pytest.mark.parametrize("reply, reason", [
    (Reply(body=b"<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
     "not a Messages API message"),
    # JSON cut off mid-body (the declared length matches what is sent)
    (Reply(body=json.dumps(message(decision_json())).encode()[:60]), "not readable JSON"),
    # valid JSON, but not a message
    (json_reply([1, 2, 3]), "not a Messages API message"),
])
def test_a_200_reply_that_is_not_a_message_is_a_recorded_failure(srv, ctx, reply, reason):
    """Before: `internal error AttributeError` / `JSONDecodeError`, the reservation left
    `reserved` for an hour, the breaker never told."""
    srv.messages = [reply]
    res = client_for(srv).call("master_analyst", ctx, use_cache=False)
    assert res.status == "error" and res.output is None and reason in res.error
    [row] = rows()
    assert row.status == "error" and row.cost_usd == 0.0 and row.settled_at is not None
    assert row.reserved_usd > 0 and costs.spend()[0] == 0.0  # the reservation is released
    assert breaker_for(SONNET).failures == 1


def test_a_body_cut_off_by_a_dropped_connection_is_a_recorded_failure(srv, ctx):
    """Content-Length promises more than arrives: the SDK's connection error, recorded."""
    body = json.dumps(message(decision_json())).encode()
    srv.messages = [Reply(body=body, cut_at=len(body) // 2)]
    res = client_for(srv).call("master_analyst", ctx, use_cache=False)
    assert res.status == "error" and "connection failed" in res.error
    assert [(r.status, r.cost_usd) for r in rows()] == [("error", 0.0)]
    assert breaker_for(SONNET).failures == 1


# ------------------------------------------------------------ 2. a huge retry-after

def test_a_huge_retry_after_fails_at_once_with_the_reason(srv, ctx):
    """Before: the SDK slept as long as the header said (86400 s here)."""
    srv.messages = [api_error(429, "slow down", headers={"retry-after": "86400"}),
                    json_reply(message(decision_json()))]
    res = client_for(srv, max_retries=3).call("master_analyst", ctx, use_cache=False)
    assert res.status == "error" and res.output is None
    assert "retry-after" in res.error and "max_retry_wait_seconds 60" in res.error
    assert len(srv.message_posts()) == 1  # no retry was waited for
    assert [(r.status, r.cost_usd) for r in rows()] == [("error", 0.0)]


def test_a_retry_after_under_the_cap_is_still_honoured(srv, ctx):
    srv.messages = [api_error(429, headers={"retry-after": "0.01"}),
                    json_reply(message(decision_json()))]
    res = client_for(srv, max_retries=2).call("master_analyst", ctx, use_cache=False)
    assert res.status == "ok" and len(srv.message_posts()) == 2


def test_the_whole_call_stops_at_its_wall_time(srv, ctx):
    """Waits under the cap, but more of them than max_call_seconds allows."""
    cfg = cfg_with(client={"max_call_seconds": 0.3})
    srv.messages = [api_error(529, "overloaded", headers={"retry-after": "0.2"})]
    res = client_for(srv, cfg, max_retries=10).call("master_analyst", ctx, use_cache=False)
    assert res.status == "error" and "max_call_seconds" in res.error
    assert len(srv.message_posts()) <= 2  # not the 11 attempts max_retries allowed


# ------------------------------------------------- 3. usage the budget cannot believe

def test_usage_above_the_reservation_is_an_anomaly_that_stops_paid_calls(srv, ctx):
    """Before: a reply claiming 10 M input tokens recorded $20 against a $5 limit."""
    srv.messages = [json_reply(message(decision_json(), usage=usage(10_000_000, 200)))]
    client = client_for(srv)
    res = client.call("master_analyst", ctx, use_cache=False)
    [row] = rows()
    assert row.anomaly and "above the request's bound" in row.anomaly and row.estimated
    assert "$20.002000" in row.anomaly  # what the reply claimed: 10e6·2 + 200·10 per 1e6
    assert row.input_tokens == 10_000_000  # recorded as reported …
    assert row.cost_usd == row.reserved_usd == res.cost_usd  # … but charged at the bound
    assert costs.spend()[0] <= load_config().cost_management.daily_limit_usd
    # no further paid call until acknowledged; the refused call is never sent
    sent = len(srv.message_posts())
    with pytest.raises(costs.AnomalyPending, match=r"costs --acknowledge"):
        client.call("master_analyst", make_ctx(close=101.0), use_cache=False)
    assert len(srv.message_posts()) == sent
    assert [a["id"] for a in costs.cost_summary()["anomalies"]] == [row.id]
    assert costs.acknowledge_anomalies() == 1
    srv.messages = [json_reply(message(decision_json()))]
    assert client.call("master_analyst", make_ctx(close=101.0), use_cache=False).ok
    assert costs.cost_summary()["anomalies"] == []


@pytest.mark.parametrize("bad, says", [
    (usage(-5_000_000, 200), "input_tokens is negative"),
    (usage(1000, -50), "output_tokens is negative"),
    (usage("lots", 200), "not a whole number"),
    (usage(float("nan"), 200), "not a whole number"),
    (usage(1000, 50_000), "above max_tokens 1200"),
    (None, "no usage"),
])
def test_negative_or_absurd_usage_is_an_anomaly_and_never_lowers_spend(srv, ctx, bad, says):
    """Before: negative usage recorded −$20 and lowered today's spend."""
    reply = message(decision_json())
    if bad is None:
        del reply["usage"]
    else:
        reply["usage"] = bad
    # NaN is not JSON: write the body by hand so the stand-in sends it as a real API might
    body = json.dumps(reply).encode()
    srv.messages = [Reply(body=body)]
    client_for(srv).call("master_analyst", ctx, use_cache=False)
    [row] = rows()
    assert says in row.anomaly and row.cost_usd == row.reserved_usd > 0
    assert costs.spend()[0] == row.reserved_usd  # the spend went up by the bound, not down


def test_eight_concurrent_calls_with_double_usage_never_pass_the_limit(srv):
    """Before: 8 concurrent calls with usage twice the estimate recorded $0.0311 against a
    $0.03 limit."""
    cfg = cfg_with(cost_management={"daily_limit_usd": 0.1, "monthly_limit_usd": 1.0})
    client = client_for(srv, cfg)
    params, _, _, model = client.request_params("master_analyst", make_ctx())
    _, bound = client.bounds(params, model)
    # every reply claims twice the input the request can hold, and full output
    srv.messages = [json_reply(message(decision_json(), usage=usage(2 * bound, 1200)))]
    errors: list[Exception] = []

    def worker(i: int) -> None:
        try:
            client.call("master_analyst", make_ctx(100 + 0.5 * i), use_cache=False)
        except costs.BudgetExceeded as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert costs.spend()[0] <= 0.1 + 1e-12
    settled = [r for r in rows() if r.status == "ok"]
    assert settled and all(r.anomaly and r.cost_usd == r.reserved_usd for r in settled)
    assert errors  # the anomaly (or the limit) refused the rest


# ------------------------------------------------------------------ 4. absurd levels

def test_absurd_levels_go_back_for_repair_and_never_become_a_decision(srv):
    """Before: a BUY at entry 1e9, stop 1.0, target 2e9 with the price at 256.84 passed
    validation and the risk check."""
    ctx = make_ctx(close=256.84)
    absurd = decision_json(entry=1e9, stop=1.0, target=2e9)
    srv.messages = [json_reply(message(absurd)),
                    json_reply(message(decision_json(entry=256.84, stop=252.0,
                                                     target=266.0)))]
    res = client_for(srv).call("master_analyst", ctx, use_cache=False)
    assert res.status == "ok" and res.output.entry_price == 256.84 and res.attempts == 2
    repair = srv.message_posts()[1]["messages"][-1]["content"]
    assert "entry_price 1e+09" in repair and "within 10% of it" in repair
    srv.messages = [json_reply(message(absurd))]
    res = client_for(srv).call("master_analyst", make_ctx(close=257.5), use_cache=False)
    assert res.status == "invalid" and res.output is None


def test_levels_are_checked_in_atr_and_percent():
    from pydantic import ValidationError

    from engine.llm.schema import validate_output

    lv = load_config().levels
    ok = json.loads(decision_json(entry=100, stop=95, target=110))
    kw = {"price": 100.0, "levels": lv}
    assert validate_output("decision", ok, atr=2.0, **kw).entry_price == 100
    # stop 5 = 2.5 ATR is fine; 30 = 15 ATR is not (max_stop_atr 10)
    far = json.loads(decision_json(entry=100, stop=70, target=110))
    with pytest.raises(ValidationError, match=r"stop_loss 70 is 15 ATR .* within 10 ATR"):
        validate_output("decision", far, atr=2.0, **kw)
    # without an ATR: percent of the entry (max_stop_pct 25: 30 % is too far)
    with pytest.raises(ValidationError, match=r"stop_loss 70 is 30% .* within 25%"):
        validate_output("decision", far, atr=None, **kw)
    sell = json.loads(decision_json("SELL", entry=100, stop=105, target=30))
    with pytest.raises(ValidationError, match=r"take_profit 30 is 35 ATR"):
        validate_output("decision", sell, atr=2.0, **kw)
    # no as-of price in the context (the consensus' own Decision): not checked
    assert validate_output("decision", far).stop_loss == 70


# --------------------------------------------------------------- 5. batch poll errors

def test_batch_poll_errors_abandon_the_batch_and_the_screen_falls_back(srv, monkeypatch):
    """Before: `internal error HTTPNotImplementedError`, reservations left `reserved`, the
    submitted batch abandoned."""
    from engine.llm.analyst import screen

    cfg = cfg_with(client={"batch_poll_seconds": 0.0, "batch_poll_retries": 2})
    srv.batch_polls = [api_error(501, "not implemented")]
    hold = decision_json("HOLD", confidence=55, stop=None, target=None, size=0.0)
    srv.messages = [json_reply(message(hold, model="claude-haiku-5-5"))]
    client = client_for(srv, cfg)
    syms = ["SYN-TREND", "SYN-RANGE"]
    out = screen(syms, batch=True, client=client, cfg=cfg, batch_sleep=lambda s: None)
    polls = [p for m, p, _ in srv.requests if m == "GET" and p.endswith("msgbatch_standin")]
    assert len(polls) == 3  # the first poll and its two retries
    assert srv.cancelled == 1
    batch_rows = [r for r in rows() if r.batch]
    assert len(batch_rows) == 2
    assert all(r.status == "error" and r.cost_usd == 0 and "abandoned" in r.error
               for r in batch_rows)
    # the fallback: one interactive call per symbol, each answered
    assert len(srv.message_posts()) == 2
    assert {r["symbol"]: r["decision"] for r in out} == {s: "HOLD" for s in syms}
    assert all("HTTP 501" in r["batch_note"] and "fell back" in r["batch_note"] for r in out)
    assert not [r for r in rows() if r.status == "reserved"]


def test_a_failed_fallback_reports_which_symbols_have_no_answer(srv):
    from engine.llm.analyst import screen

    cfg = cfg_with(client={"batch_poll_seconds": 0.0, "batch_poll_retries": 0})
    srv.batch_polls = [Reply(body=b"<html>gateway</html>", content_type="text/html")]
    srv.messages = [api_error(500, "down")]
    out = screen(["SYN-TREND"], batch=True, client=client_for(srv, cfg), cfg=cfg,
                 batch_sleep=lambda s: None)
    [row] = out
    assert row["decision"] is None and "HTTP 500" in row["error"]
    assert "no batch answer for SYN-TREND" in row["batch_note"]


def test_a_batch_that_ends_is_collected_as_before(srv):
    from engine.llm.batch import BatchItem, run_batch

    srv.batch_polls = [json_reply(batch_doc()), json_reply(batch_doc("ended", succeeded=1))]
    srv.batch_results = {0: message(decision_json(entry=100.0), model="claude-haiku-5-5",
                                    usage=usage(2000, 400))}
    cfg = cfg_with(client={"batch_poll_seconds": 0.0})
    got = run_batch(client_for(srv, cfg), [BatchItem("0-S", "master_analyst", make_ctx(),
                                                     "haiku")], sleep=lambda s: None)
    assert got["0-S"].ok and got["0-S"].cost_usd == pytest.approx(
        (2000 * 0.10 + 400 * 0.50) / 1e6 * 0.5)  # haiku prices, half for a batch


# ---------------------------------------------------------- 6. a reply echoing the key

def test_a_reply_echoing_the_key_is_redacted_everywhere(srv, monkeypatch):
    """Before: the key from a reply's reasoning was stored in ai_decisions.payload and the
    response cache and printed by --json."""
    from engine.llm.analyst import analyze

    other = "sk-ant-api03-" + "Zz9" * 10  # shaped like a key, not the one in use
    text = json.loads(decision_json(entry=256.8, stop=250.0, target=270.0))
    text["reasoning"] = f"my key is {SECRET}; another is {other}"
    text["key_risks"] = [f"leak {SECRET}"]
    srv.messages = [json_reply(message(json.dumps(text)))]
    doc = analyze("SYN-TREND", client=client_for(srv))
    printed = json.dumps(doc, default=str)
    assert doc["decision"]["reasoning"] == "my key is ***; another is ***"
    assert SECRET not in printed and other not in printed
    with db.session_scope() as s:
        stored = [r.model_dump() for r in s.exec(select(AIDecision))]
        cached = [r.payload for r in s.exec(select(LLMResponseCache))]
    assert stored and cached
    for blob in (json.dumps(stored, default=str), json.dumps(cached)):
        assert SECRET not in blob and other not in blob and "***" in blob
    db.dispose_all()  # and nowhere in the database file
    lab = Path(get_settings().data_dir)
    raw = b"".join(p.read_bytes() for p in lab.glob("lab.db*"))
    assert SECRET.encode() not in raw and other.encode() not in raw


# ------------------------------------------- 7. breaker across processes, timeout cost

def test_the_breaker_is_open_for_another_process(srv, ctx):
    """Before: the breaker lived in the process, so each command-line run started closed."""
    srv.messages = [api_error(500, "down")]
    client = client_for(srv)
    for _ in range(load_config().client.circuit_failure_threshold):
        assert client.call("master_analyst", ctx, use_cache=False).status == "error"
    code = ("from engine.llm.breaker import breaker_for; "
            f"print(breaker_for({SONNET!r}).state)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "open"
    sent = len(srv.message_posts())
    assert client_for(srv).call("master_analyst", ctx, use_cache=False).status == "circuit_open"
    assert len(srv.message_posts()) == sent


def test_a_timeout_is_recorded_at_its_reservation_as_an_estimate(srv, ctx):
    """Before: a timeout was recorded at $0 though a real API may bill it."""
    srv.messages = [Reply(body=json.dumps(message(decision_json())).encode(), delay=1.0)]
    res = client_for(srv, timeout=0.2).call("master_analyst", ctx, use_cache=False)
    assert res.status == "timeout"
    [row] = rows()
    assert row.status == "timeout" and row.estimated and row.cost_usd == row.reserved_usd > 0
    assert costs.cost_summary()["estimated_usd"] == round(row.reserved_usd, 6)


def test_the_base_url_can_come_from_the_environment(srv, ctx, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.url)
    srv.messages = [json_reply(message(decision_json()))]
    client = ClaudeClient(SECRET, max_retries=0,
                          limiter=RateLimiter(clock=lambda: 0.0, sleep=lambda s: None))
    assert client.call("master_analyst", ctx, use_cache=False).ok
    assert len(srv.message_posts()) == 1


def test_screen_batch_on_the_command_line_survives_poll_errors(srv, tmp_path, monkeypatch,
                                                              capsys):
    """The issue's reproduction: `screen --batch` ended in `internal error
    HTTPNotImplementedError`."""
    from engine.cli import main
    from engine.config import reset_settings

    text = Path(load_config().source).read_text(encoding="utf-8")
    text = text.replace("batch_poll_seconds: 30.0", "batch_poll_seconds: 0.0")
    assert "batch_poll_seconds: 0.0" in text
    (tmp_path / "prompts.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("STRATLAB_PROMPTS", str(tmp_path / "prompts.yaml"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.url)
    reset_settings()
    srv.batch_polls = [api_error(501, "not implemented")]
    hold = decision_json("HOLD", confidence=55, stop=None, target=None, size=0.0)
    srv.messages = [json_reply(message(hold, model="claude-haiku-5-5"))]
    code = main(["screen", "SYN-TREND", "--batch", "--provider", "anthropic", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and "internal error" not in err
    assert "warning: screening: batch msgbatch_standin was abandoned and cancelled" in err
    doc = json.loads(out)
    assert [r["decision"] for r in doc["rows"]] == ["HOLD"] and SECRET not in out + err
