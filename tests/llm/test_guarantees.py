"""The budget's guarantee as a property over every usage a reply can claim; acknowledging
anomalies; prompts.yaml problems and an as-of past the data named with their fix."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import delete, select

from engine import db
from engine.cli import main
from engine.config import reset_settings
from engine.llm import costs
from engine.llm.prompts import LLMConfigError, load_config
from engine.llm.tables import LLMCall

LIMIT = 0.05
NOW = datetime(2026, 6, 15, 12, 0)

#: What a reply's usage field may hold: any whole number (negative, huge), or junk.
counts = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=0, max_value=5000),  # the plausible range, often
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(), st.text(max_size=5), st.booleans(),
)
usages = st.one_of(st.none(), st.fixed_dictionaries({
    "input_tokens": counts, "output_tokens": counts,
    "cache_creation_input_tokens": counts, "cache_read_input_tokens": counts}))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replies=st.lists(st.tuples(usages, st.floats(0.001, 0.03)), min_size=1, max_size=8))
def test_recorded_spend_never_passes_the_limit_whatever_replies_claim(replies):
    """Reserve, settle with what the reply claims, acknowledge any anomaly, repeat: today's
    spend never passes the limit, never goes down, and a row never costs more than its
    reservation; a believable reply is priced exactly."""
    cfg = load_config()
    cfg = cfg.model_copy(update={"cost_management": cfg.cost_management.model_copy(
        update={"daily_limit_usd": LIMIT, "monthly_limit_usd": 1.0})})
    spec = cfg.model("sonnet")
    with db.session_scope() as s:
        s.exec(delete(LLMCall))
    before = 0.0
    for raw, reserve in replies:
        try:
            cid = costs.reserve(model_key="sonnet", spec=spec, prompt="p", prompt_version="1",
                                max_cost_usd=reserve, cfg=cfg, now=NOW)
        except costs.BudgetExceeded:
            continue
        u, problems = costs.read_usage(raw)
        cost = costs.settle(cid, spec=spec, usage=u, problems=problems, max_tokens=1200,
                            cfg=cfg)
        with db.session_scope() as s:
            row = s.get(LLMCall, cid)
        assert 0.0 <= row.cost_usd <= row.reserved_usd == reserve and cost == row.cost_usd
        if not row.anomaly:
            assert row.cost_usd == costs.price(spec, u) and not problems
        today = costs.spend(NOW)[0]
        assert before - 1e-12 <= today <= LIMIT + 1e-12
        before = today
        costs.acknowledge_anomalies()


def test_junk_usage_is_read_without_raising():
    u, problems = costs.read_usage({"input_tokens": float("inf"), "output_tokens": True,
                                    "cache_read_input_tokens": 10**30})
    assert (u.input_tokens, u.output_tokens) == (0, 0)
    assert u.cache_read_tokens == 2**31 - 1  # clamped for the column; the text says more
    assert len(problems) == 2 and all("not a whole number" in p for p in problems)
    assert costs.read_usage(None) == (costs.Usage(), ["the reply reports no usage"])


def test_the_request_bytes_bound_its_tokens():
    cfg = load_config()
    text = "héllo"  # 6 UTF-8 bytes: at most 6 tokens, plus the API's overhead
    assert costs.input_token_bound(text, cfg) == 6 + cfg.cost_management.reservation_overhead_tokens


# ------------------------------------------------------------------ acknowledging

def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _anomaly() -> int:
    cfg = load_config()
    spec = cfg.model("haiku")
    cid = costs.reserve(model_key="haiku", spec=spec, prompt="p", prompt_version="1",
                        max_cost_usd=0.01, cfg=cfg)
    costs.settle(cid, spec=spec, usage=costs.Usage(-100, 5), cfg=cfg,
                 problems=["input_tokens is negative (-100)"])
    return cid


def test_costs_acknowledge_on_the_command_line(capsys):
    cid = _anomaly()
    code, out, _ = run_cli(capsys, "costs")
    assert code == 0 and f"ANOMALY call {cid}" in out and "costs --acknowledge" in out
    with pytest.raises(costs.AnomalyPending, match="input_tokens is negative"):
        costs.reserve(model_key="haiku", spec=load_config().model("haiku"), prompt="p",
                      prompt_version="1", max_cost_usd=0.01)
    code, out, _ = run_cli(capsys, "costs", "--acknowledge")
    assert code == 0 and f"acknowledged call {cid}" in out and "1 anomaly acknowledged" in out
    with db.session_scope() as s:
        row = s.exec(select(LLMCall).where(LLMCall.id == cid)).one()
    assert row.acknowledged_at is not None and row.anomaly  # the record stays
    code, out, _ = run_cli(capsys, "costs", "--acknowledge", "--json")
    doc = json.loads(out)
    assert doc["acknowledged"] == 0 and doc["anomalies"] == []
    costs.reserve(model_key="haiku", spec=load_config().model("haiku"), prompt="p",
                  prompt_version="1", max_cost_usd=0.01)  # paid calls may run again


# ------------------------------------------------------------- prompts.yaml problems

GOOD = load_config().source


def _prompts(tmp_path, text: str | bytes):
    p = tmp_path / "prompts.yaml"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_a_binary_prompts_file_is_named(tmp_path):
    p = _prompts(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(LLMConfigError, match=r"is not UTF-8 text .* binary file\?\); restore"):
        load_config(p)


def test_a_prompts_directory_is_named(tmp_path):
    with pytest.raises(LLMConfigError, match=r"is a directory; restore prompts/prompts.yaml "
                                             r"or point STRATLAB_PROMPTS"):
        load_config(tmp_path)


def test_an_unbalanced_brace_in_a_template_is_named(tmp_path):
    text = open(GOOD, encoding="utf-8").read().replace(
        "give one trading decision for {symbol}", "give one trading decision for {symbol")
    with pytest.raises(LLMConfigError, match=r"prompts.master_analyst.template is not a valid "
                                             r"template .*; close every \{placeholder\}"):
        load_config(_prompts(tmp_path, text))


@pytest.mark.parametrize("bad", ["{symbol:>q}", "{symbol!z}"])
def test_a_template_that_cannot_be_filled_is_named(tmp_path, bad):
    text = open(GOOD, encoding="utf-8").read().replace(
        "give one trading decision for {symbol}", f"give one trading decision for {bad}")
    with pytest.raises(LLMConfigError, match=r"prompts.master_analyst.template (cannot be "
                                             r"filled|is not a valid template)"):
        load_config(_prompts(tmp_path, text))


def test_a_yaml_syntax_error_is_one_line_with_line_and_column(tmp_path):
    text = "version: 1\nmodels:\n  haiku: [unclosed\ncost_management: {}\n"
    with pytest.raises(LLMConfigError) as info:
        load_config(_prompts(tmp_path, text))
    msg = str(info.value)
    assert "\n" not in msg and "is not valid YAML" in msg and "fix the syntax" in msg
    assert "line 4, column 16" in msg  # where the parser found the flow sequence broken


@pytest.mark.parametrize("make", [
    lambda d: _prompts(d, b"\x00\x01\x02binary"),
    lambda d: d,
    lambda d: _prompts(d, "a: [1\n"),
])
def test_the_command_line_names_prompts_problems(tmp_path, monkeypatch, capsys, make):
    monkeypatch.setenv("STRATLAB_PROMPTS", str(make(tmp_path)))
    reset_settings()
    code, out, err = run_cli(capsys, "analyze", "SYN-TREND", "--provider", "offline")
    assert code == 2 and "internal error" not in err and "prompts" in err
    assert len(err.strip().splitlines()) == 1


# -------------------------------------------------------------- an as-of past the data

def test_an_as_of_after_the_last_bar_is_refused_with_its_date(capsys):
    code, out, err = run_cli(capsys, "analyze", "SYN-TREND", "--as-of", "2035-01-01",
                             "--provider", "offline")
    assert code == 2 and out == ""
    assert ("as-of 2035-01-01 is after the last bar of SYN-TREND (2024-12-31); give an as-of "
            "on or before 2024-12-31, or leave it out to use the last bar") in err
    code, out, _ = run_cli(capsys, "analyze", "SYN-TREND", "--as-of", "2024-12-31",
                           "--provider", "offline")
    assert code == 0 and out.startswith("SYN-TREND as of 2024-12-31")


def test_screen_names_the_symbol_whose_as_of_is_past_its_data():
    from engine.llm.analyst import screen

    rows = screen(["SYN-TREND"], "2035-01-01", provider="offline")
    assert rows[0]["decision"] is None and "after the last bar of SYN-TREND" in rows[0]["error"]


def test_the_package_surface_is_pinned():
    import engine.llm

    assert engine.llm.__all__ == [
        "AnomalyPending", "BudgetExceeded", "LLMConfigError", "accuracy_report",
        "acknowledge_anomalies", "analyze", "breaker_states", "cost_summary",
        "ensure_llm_jobs", "estimate_replay", "fill_outcomes", "load_config",
        "pending_anomalies", "replay", "screen"]
    assert all(hasattr(engine.llm, n) for n in engine.llm.__all__)


def test_the_replay_estimate_covers_what_its_calls_reserve():
    """replay --max-cost compares the estimate: it must be at least the reservations."""
    from engine.llm.analyst import estimate_replay, replay_dates
    from engine.llm.client import ClaudeClient
    from engine.llm.context import build_context
    from engine.market import load_dataset
    from tests.llm.conftest import SECRET

    frame = load_dataset("SYN-TREND")
    est = estimate_replay("SYN-TREND", "2024-12-01", "2024-12-31", 100, provider="anthropic",
                          df=frame)
    [day] = replay_dates(frame, "2024-12-01", "2024-12-31", 100)
    client = ClaudeClient(SECRET)
    params, _, _, model = client.request_params("master_analyst",
                                                build_context("SYN-TREND", frame, day))
    assert est["n_decisions"] == 1
    assert est["max_cost_usd"] >= round(client.reservation(params, model), 6) > 0
