"""LLM look-ahead controls (issue 13 §3): blind prompts through the real SDK's transport,
rebased levels mapped back, the training-cutoff split, paired replays and the control arm."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import httpx2
import numpy as np
import polars as pl
import pytest

from engine.llm.blind import blind_context, levels_to_raw, to_raw
from engine.llm.context import KINDS, MarketContext, build_context
from engine.llm.lookahead import decision_window, exposure, in_window
from engine.llm.prompts import load_config, parse_config, prompt_text
from engine.llm.replies import parse_reply
from tests.llm.conftest import FakeAPI, decision_json, message

SYMBOL = "ZQXCOIN"  # a name that appears nowhere else in a request


def _frame(n: int = 320, start: datetime = datetime(2021, 1, 4), level: float = 48_000.0,
           seed: int = 7) -> pl.DataFrame:
    """Daily bars around ``level`` (every price field, ATR included, is above 500 — far from
    any rebased number, percentage or oscillator a prompt contains)."""
    rng = np.random.default_rng(seed)
    close = level * np.exp(np.cumsum(rng.normal(0.0005, 0.015, n)))
    opn = close * (1 + rng.normal(0, 0.004, n))
    high = np.maximum(opn, close) * (1 + np.abs(rng.normal(0, 0.006, n)))
    low = np.minimum(opn, close) * (1 - np.abs(rng.normal(0, 0.006, n)))
    return pl.DataFrame({"timestamp": [start + timedelta(days=i) for i in range(n)],
                         "open": opn, "high": high, "low": low, "close": close,
                         "volume": rng.uniform(1e6, 2e6, n)})


def _reply_for(shown: MarketContext):
    """A fake API answering every prompt kind, its decision levels on ``shown``'s scale."""
    p, atr = shown.price, shown.values["atr14"]

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        kind = set(body["output_config"]["format"]["schema"]["required"])
        if "decision" in kind:
            text = decision_json("BUY", 72, entry=round(p, 4), stop=round(p - 2 * atr, 4),
                                 target=round(p + 3 * atr, 4), size=0.05)
        elif "regime" in kind:
            text = json.dumps({"regime": "bull", "confidence": 60, "reasoning": "up"})
        elif "risk_score" in kind:
            text = json.dumps({"risk_score": 40, "approved": True, "concerns": ["vol"],
                               "max_position_size": 0.05})
        else:
            text = json.dumps({"agrees": True, "objections": [], "confidence_penalty": 5})
        return httpx2.Response(200, json=message(text))

    return handler


def _raw_price_strings(ctx: MarketContext) -> set[str]:
    """The real price fields written every way a prompt could write them."""
    out = set()
    for k, kind in KINDS.items():
        v = ctx.values.get(k)
        if kind == "price" and v is not None:
            out |= {f"{v:.4g}", f"{v:.2f}", f"{v:g}", f"{v:.6g}", str(int(v)), f"{v:.1f}"}
    return out


DATE_PATTERNS = [r"\d{4}-\d{2}-\d{2}", r"\d{1,2}/\d{1,2}/\d{2,4}", r"\b20[0-3]\d\b",
                 r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d"]


def _texts(body: str) -> list[str]:
    """The raw request body and every text in it decoded (JSON escapes undone)."""
    doc = json.loads(body)
    out = [body, *(b["text"] for b in doc["system"])]
    for m in doc["messages"]:
        c = m["content"]
        out.extend([c] if isinstance(c, str) else [b.get("text", "") for b in c])
    return out


@pytest.mark.parametrize("consensus", [False, True])
def test_blind_requests_carry_no_symbol_no_date_and_no_real_price(make_client, consensus):
    from engine.llm.analyst import analyze

    frame = _frame()
    as_of = datetime(2021, 11, 15)
    named = build_context(SYMBOL, frame, as_of)
    shown = blind_context(named)
    api = FakeAPI(_reply_for(shown))
    doc = analyze(SYMBOL, as_of, consensus=consensus, client=make_client(api), df=frame,
                  blind=True)
    assert doc["decision"] is not None and doc["blind"] is True
    bodies = [r.content.decode() for r in api.requests]
    assert len(bodies) == (6 if consensus else 1)  # members, contrarian, regime, risk
    raw = _raw_price_strings(named)
    assert len(raw) >= 20  # six price fields, several spellings each
    for body in bodies:
        text = json.loads(body)["messages"][0]["content"]
        assert SYMBOL not in body and SYMBOL.lower() not in body.lower()
        for part in _texts(body):
            for pat in DATE_PATTERNS:
                assert not re.search(pat, part), (pat, re.search(pat, part))
        leaked = [s for s in raw if s in body]
        assert leaked == [], leaked
        # what it does carry: the rebased close (the first bar of the window closed at 100)
        assert f"close: {shown.price:.4g}" in text and "rebased" in text
        assert "bar interval: 1d" in text
    if consensus:  # the contrarian judged a proposal written on the rebased scale
        contra = [b for b in bodies if "devil's advocate" in b]
        assert len(contra) == 1 and f"BUY at {round(shown.price, 4):.6g}" in contra[0]


def test_the_same_analysis_named_does_show_symbol_date_and_price(make_client):
    """The check above can fail: a named request carries all three."""
    from engine.llm.analyst import analyze

    frame = _frame()
    as_of = datetime(2021, 11, 15)
    named = build_context(SYMBOL, frame, as_of)
    api = FakeAPI(_reply_for(named))
    analyze(SYMBOL, as_of, client=make_client(api), df=frame)
    body = api.requests[0].content.decode()
    assert SYMBOL in body and "2021-11-15" in body and f"{named.price:.2f}" in body
    assert any(re.search(DATE_PATTERNS[0], t) for t in _texts(body))


def _hand_ctx() -> MarketContext:
    # first bar of the window closed at 250, the as-of close is 275: rebased 275·100/250 = 110
    vals = {k: None for k in KINDS}
    vals.update(close=275.0, sma20=270.0, sma50=260.0, bb_upper=280.0, bb_lower=255.0,
                atr14=5.0, rsi14=61.0, ret_1d_pct=0.5, bb_pct_b=0.8)
    return MarketContext(symbol="HAND", as_of=datetime(2024, 1, 2), price=275.0,
                         regime="bull", values=vals, n_bars=300, base_close=250.0,
                         window_bars=300, interval="1d")


def test_rebasing_and_mapping_back_by_hand():
    ctx = _hand_ctx()
    b = blind_context(ctx)
    # scale = 100 / 250 = 0.4: 275 → 110, 270 → 108, 260 → 104, ATR 5 → 2
    assert b.scale == 0.4 and b.price == pytest.approx(110.0)
    assert b.values["sma20"] == pytest.approx(108.0) and b.values["atr14"] == pytest.approx(2.0)
    # returns, ratios and oscillators are unchanged
    assert (b.values["rsi14"], b.values["ret_1d_pct"], b.values["bb_pct_b"]) == (61.0, 0.5, 0.8)
    # the model answers entry 110, stop 104, target 119 on the rebased scale:
    # raw = rebased · 250 / 100 → 275, 260, 297.5 (exactly: 2.5 is a binary fraction)
    out = parse_reply(decision_json("BUY", 70, entry=110, stop=104, target=119), "decision",
                      load_config(), b)
    assert (out.entry_price, out.stop_loss, out.take_profit) == (275.0, 260.0, 297.5)
    assert to_raw(None, b) is None and levels_to_raw({"entry_price": 110}, ctx) == {
        "entry_price": 110}  # a named context maps nothing


def test_a_rejected_blind_reply_quotes_only_rebased_prices():
    b = blind_context(_hand_ctx())
    with pytest.raises(ValueError, match=r"entry_price 150 .* as-of close 110") as exc:
        parse_reply(decision_json("BUY", 70, entry=150, stop=145, target=160), "decision",
                    load_config(), b)
    assert "275" not in str(exc.value) and "250" not in str(exc.value)


def test_blind_levels_are_recorded_and_risk_checked_on_the_real_scale(make_client):
    from engine import db
    from engine.llm.analyst import analyze
    from engine.llm.tables import AIDecision

    frame = _frame()
    as_of = datetime(2021, 11, 15)
    named = build_context(SYMBOL, frame, as_of)
    shown = blind_context(named)
    doc = analyze(SYMBOL, as_of, client=make_client(FakeAPI(_reply_for(shown))), df=frame,
                  blind=True)
    base = named.base_close
    want_entry = round(shown.price, 4) * base / 100.0
    assert doc["decision"]["entry_price"] == pytest.approx(want_entry, rel=1e-12)
    assert doc["decision"]["entry_price"] == pytest.approx(named.price, rel=1e-5)
    assert doc["risk"]["approved"] is True  # size 0.05 within the limit, real levels
    with db.session_scope() as s:
        row = s.get(AIDecision, doc["decision_id"])
        assert row.blind is True and row.entry_price == pytest.approx(want_entry, rel=1e-12)
        assert row.stop_loss == pytest.approx(
            round(shown.price - 2 * shown.values["atr14"], 4) * base / 100.0, rel=1e-12)


def test_a_blind_snapshot_needs_a_positive_first_close():
    from engine.errors import ParameterError

    ctx = _hand_ctx()
    bad = MarketContext(symbol="BAD", as_of=ctx.as_of, price=1.0, regime="bull",
                        values=ctx.values, base_close=0.0)
    with pytest.raises(ParameterError, match=r"BAD: a blind analysis needs a positive"):
        blind_context(bad)


# ------------------------------------------------------------------------- cutoffs

def _cfg_with_cutoff(cutoff: str):
    text = prompt_text().replace("training_cutoff: 2026-06-30", f"training_cutoff: {cutoff}")
    return parse_config(text)


def test_cutoffs_come_from_prompts_yaml_and_the_as_of_day_counts_as_inside():
    cfg = load_config()
    assert {m.training_cutoff for m in cfg.models.values()} == {date(2026, 6, 30)}
    assert in_window(datetime(2026, 6, 30, 23, 59), date(2026, 6, 30)) is True
    assert in_window(date(2026, 7, 1), date(2026, 6, 30)) is False
    assert in_window(date(2020, 1, 1), None) is None  # the offline analyst has no cutoff
    two = parse_config(prompt_text().replace(
        "training_cutoff: 2026-06-30\n  sonnet", "training_cutoff: 2025-01-31\n  sonnet", 1))
    # a decision using haiku (2025-01-31) and sonnet (2026-06-30): the later cutoff decides
    assert two.cutoff_for(["claude-haiku-5-5"]) == date(2025, 1, 31)
    assert decision_window(date(2025, 6, 1), ["claude-haiku-5-5", "claude-sonnet-5-5"],
                           two) == {"training_cutoff": date(2026, 6, 30),
                                    "in_training_window": True}
    assert decision_window(date(2025, 6, 1), ["offline-rules"], two) == {
        "training_cutoff": None, "in_training_window": None}


def test_the_replay_estimate_counts_decisions_before_the_cutoff():
    from engine.llm.analyst import estimate_replay, replay_dates
    from engine.market import load_dataset

    frame = load_dataset("SYN-TREND")
    cfg = _cfg_with_cutoff("2023-03-31")
    dates = replay_dates(frame, "2023-01-01", "2023-06-30", 10)
    inside = sum(1 for d in dates if d.date() <= date(2023, 3, 31))
    assert 0 < inside < len(dates)
    est = estimate_replay("SYN-TREND", "2023-01-01", "2023-06-30", 10, provider="anthropic",
                          df=frame, cfg=cfg)
    assert est["arms"] == ["blind"] and est["control_decisions"] == len(dates)
    assert (est["in_training_window"], est["after_cutoff"]) == (inside, len(dates) - inside)
    assert est["lookahead_warning"].startswith(f"{inside} of {len(dates)} decisions")
    paired = estimate_replay("SYN-TREND", "2023-01-01", "2023-06-30", 10,
                             provider="anthropic", df=frame, cfg=cfg, paired=True)
    # two arms: twice the decisions, twice the calls, twice the affected decisions
    assert paired["n_decisions"] == 2 * len(dates) and paired["in_training_window"] == 2 * inside
    assert paired["max_cost_usd"] > est["max_cost_usd"] > 0
    off = estimate_replay("SYN-TREND", "2023-01-01", "2023-06-30", 10, provider="offline",
                          df=frame, cfg=cfg)
    assert off["lookahead_warning"] is None and off["training_cutoff"] is None
    assert exposure(dates, None) == {"training_cutoff": None, "in_training_window": 0,
                                     "after_cutoff": 0, "lookahead_warning": None}


def test_the_cli_warns_before_a_replay_before_the_cutoff_starts(capsys):
    from engine.cli import main

    code = main(["replay", "SYN-TREND", "--start", "2022-01-01", "--end", "2022-03-31",
                 "--every", "20", "--provider", "anthropic", "--json"])
    _, err = capsys.readouterr()
    # no key: the replay itself cannot start, but the estimate and warning came first
    assert code == 2
    est_at, warn_at = err.index("replay estimate"), err.index("warning: ")
    assert est_at < warn_at < err.index("ANTHROPIC_API_KEY")
    assert "training cutoff 2026-06-30" in err and "offline control" in err


def _record(as_of, *, correct, window, provider="anthropic", pnl=None, cost=0.01, **kw):
    from engine import db
    from engine.llm.tables import AIDecision

    with db.session_scope() as s:
        row = AIDecision(ticker="T", as_of=as_of, as_of_price=100.0, decision=kw.pop(
            "decision", "BUY"), confidence=kw.pop("confidence", 70.0), provider=provider,
            total_cost=cost, correct=correct, actual_outcome=1.0 if correct else -1.0,
            actionable=pnl is not None, pnl_usd=pnl, in_training_window=window, **kw)
        s.add(row)


def test_accuracy_report_splits_the_two_sides_of_the_cutoff():
    from engine.llm.tracking import accuracy_report

    d = datetime(2026, 1, 5)
    # inside: 3 decisions, 2 right; followed 2 (pnl +100, -40): win rate 1/2, P&L 60
    _record(d, correct=True, window=True, pnl=100.0)
    _record(d, correct=True, window=True)
    _record(d, correct=False, window=True, pnl=-40.0)
    # outside: 2 decisions, 0 right, one followed (-25)
    _record(datetime(2026, 8, 3), correct=False, window=False, pnl=-25.0)
    _record(datetime(2026, 8, 4), correct=False, window=False)
    # offline: no cutoff, 1 right
    _record(d, correct=True, window=None, provider="offline", cost=0.0)
    tw = accuracy_report()["training_window"]
    assert (tw["inside"]["decisions"], tw["inside"]["accuracy"]) == (3, pytest.approx(2 / 3))
    assert (tw["inside"]["win_rate"], tw["inside"]["pnl_usd"]) == (0.5, 60.0)
    assert (tw["outside"]["decisions"], tw["outside"]["accuracy"]) == (2, 0.0)
    assert (tw["outside"]["win_rate"], tw["outside"]["pnl_usd"]) == (0.0, -25.0)
    assert (tw["no_cutoff"]["decisions"], tw["no_cutoff"]["accuracy"]) == (1, 1.0)
    assert tw["inside"]["api_cost_usd"] == pytest.approx(0.03)


# ---------------------------------------------------------------- paired and control

def _row(arm, as_of, decision, correct, *, replay_id="r1", provider="anthropic",
         raw_move=None, confidence=70.0):
    return SimpleNamespace(arm=arm, replay_id=replay_id, as_of=as_of, decision=decision,
                           correct=correct, provider=provider, raw_move_pct=raw_move,
                           confidence=confidence, actionable=False, pnl_usd=None,
                           total_cost=0.0, in_training_window=True)


def test_paired_agreement_and_accuracy_gap_on_constructed_decisions():
    from engine.llm.scorecard import paired

    days = [datetime(2024, 1, d) for d in (2, 3, 4, 5)]
    named = ["BUY", "SELL", "HOLD", "BUY"]
    blind = ["BUY", "BUY", "HOLD", "SELL"]
    n_ok = [True, True, False, True]
    b_ok = [True, False, False, False]
    rows = [_row("named", d, x, c) for d, x, c in zip(days, named, n_ok, strict=True)]
    rows += [_row("blind", d, x, c) for d, x, c in zip(days, blind, b_ok, strict=True)]
    rows.append(_row("blind", datetime(2024, 1, 8), "BUY", True))  # unpaired: ignored
    rows.append(_row("named", days[0], "SELL", False, replay_id="other"))  # another replay
    p = paired(rows)
    # same decision on days 1 and 3 of 4 → 0.5; accuracy 3/4 − 1/4 = +0.5
    assert (p["pairs"], p["agreement"], p["scored_pairs"]) == (4, 0.5, 4)
    assert (p["named_accuracy"], p["blind_accuracy"], p["accuracy_gap"]) == (0.75, 0.25, 0.5)
    # discordant pairs: named only right on days 2 and 4 (2), blind only right on none (0);
    # two-sided exact McNemar p = 2 · 0.5² = 0.5
    assert (p["test"]["a_only"], p["test"]["b_only"]) == (2, 0)
    assert p["test"]["p_value"] == pytest.approx(0.5)
    assert p["small_sample"] is True


def test_arms_compare_claude_offline_and_buy_and_hold_on_the_same_dates():
    from engine.llm.scorecard import arms

    cfg = load_config()  # hold band 2 %, max position 0.1, portfolio 100,000
    days = [datetime(2024, 2, d) for d in (1, 2, 5, 6)]
    moves = [3.0, -1.0, 0.5, -4.0]
    c_ok = [True, True, False, True]
    o_ok = [False, True, False, False]
    rows = [_row("blind", d, "BUY", c, raw_move=m) for d, c, m in zip(days, c_ok, moves,
                                                                      strict=True)]
    rows += [_row("control", d, "BUY", c, provider="offline", raw_move=m)
             for d, c, m in zip(days, o_ok, moves, strict=True)]
    rows.append(_row("blind", datetime(2024, 2, 7), "BUY", True))  # no control: left out
    a = arms(rows, cfg)
    assert a["dates"] == 4 and a["claude"]["decisions"] == 4
    assert (a["claude"]["accuracy"], a["offline"]["accuracy"]) == (0.75, 0.25)
    bh = a["buy_and_hold"]
    # up on 2 of 4 dates; P&L Σ move/100 · 0.1 · 100,000 = (3 − 1 + 0.5 − 4)·100 = −150
    assert bh["accuracy"] == 0.5 and bh["pnl_usd"] == pytest.approx(-150.0)
    # vs offline: Claude only right on 2 dates (1st, 4th), offline only on none
    # → one-sided p = 0.5² = 0.25
    assert (a["tests"]["vs_offline"]["a_only"], a["tests"]["vs_offline"]["b_only"]) == (2, 0)
    assert a["tests"]["vs_offline"]["p_value"] == pytest.approx(0.25)
    # vs always-HOLD: HOLD right when |move| < 2 → dates 2 and 3; Claude only right on
    # 1 and 4, HOLD only right on 3 → b = 2, c = 1: p = P(X ≥ 2 | 3, ½) = 4/8
    h = a["tests"]["vs_hold"]
    assert (h["a_only"], h["b_only"], h["p_value"]) == (2, 1, pytest.approx(0.5))


def _hold_client(make_client):
    hold = decision_json("HOLD", 55, entry=None, stop=None, target=None, size=0.0)
    api = FakeAPI(httpx2.Response(200, json=message(hold)))
    return api, make_client(api)


def test_a_claude_replay_records_the_offline_control_arm_at_zero_cost(make_client):
    from sqlmodel import select

    from engine import db
    from engine.llm.analyst import replay
    from engine.llm.tables import AIDecision, LLMCall

    api, client = _hold_client(make_client)
    res = replay("SYN-TREND", "2023-01-01", "2023-03-31", 20, client=client)
    n = res["estimate"]["dates"]
    assert res["arms"] == ["blind"] and res["blind"] is True and n > 0
    assert len(api.requests) == n and all(b"SYN-TREND" not in r.content for r in api.requests)
    with db.session_scope() as s:
        rows = list(s.exec(select(AIDecision).where(AIDecision.replay_id == res["replay_id"])))
        offline_calls = list(s.exec(select(LLMCall).where(LLMCall.provider == "offline")))
    control = [r for r in rows if r.arm == "control"]
    claude = [r for r in rows if r.arm == "blind"]
    assert len(control) == len(claude) == n
    assert {r.as_of for r in control} == {r.as_of for r in claude}
    assert all(r.provider == "offline" and r.total_cost == 0.0 and not r.blind for r in control)
    assert all(r.provider == "anthropic" and r.blind and r.in_training_window for r in claude)
    assert all(r.in_training_window is None for r in control)
    assert len(offline_calls) == n and all(c.cost_usd == 0.0 for c in offline_calls)
    assert res["control"]["decisions"] and res["control"]["api_cost_usd"] == 0.0
    assert res["comparison"]["dates"] == n and res["warning"].startswith(f"{n} of {n}")
    assert res["training_window"]["inside"]["decisions"] == n


def test_a_paired_replay_pairs_named_and_blind_for_every_date(make_client):
    from engine.llm.analyst import replay

    api, client = _hold_client(make_client)
    res = replay("SYN-TREND", "2023-01-01", "2023-03-31", 20, client=client, paired=True)
    n = res["estimate"]["dates"]
    assert res["arms"] == ["named", "blind"] and len(api.requests) == 2 * n
    named_bodies = [r for r in api.requests if b"SYN-TREND" in r.content]
    assert len(named_bodies) == n  # only the named arm says the name
    p = res["paired"]
    assert p["pairs"] == n and p["agreement"] == 1.0  # both arms answered HOLD
    assert p["accuracy_gap"] == 0.0
    assert set(res["by_arm"]) == {"named", "blind"}
    assert res["n_decisions"] == 2 * n and len(res["control"]["decisions"]) == n


def test_the_control_arm_keeps_its_own_book():
    """Control decisions never count as open positions of the Claude arm, nor the other way
    round, and a paired replay's arms do not see each other's positions."""
    from engine.llm.tracking import portfolio_state

    d = datetime(2024, 3, 1)
    for arm in ("control", "control", "named", "blind", ""):
        _record(d, correct=None, window=True, pnl=0.0, arm=arm, replay_id="r9" if arm else "")
    t = datetime(2024, 3, 2)
    # live analyses see their own row and the two replay arms (not the controls): 3
    assert portfolio_state(t).open_positions == 3
    assert portfolio_state(t, arm="named", replay_id="r9").open_positions == 2  # "" + named
    assert portfolio_state(t, arm="control", replay_id="r9").open_positions == 2
    assert portfolio_state(t, arm="control", replay_id="other").open_positions == 0
