"""Consensus and contrarian rules, schema rules, risk limits, prompts.yaml validation."""

from __future__ import annotations

import typing

import anthropic
import pytest
from pydantic import ValidationError

from engine.llm.consensus import vote
from engine.llm.prompts import LLMConfigError, load_config, parse_config, prompt_text
from engine.llm.schema import Critique, Decision, validate_output
from engine.risk import PortfolioState, RiskLimits, check


def D(decision="BUY", conf=80.0, entry=100.0, stop=95.0, target=110.0, size=0.05,
      timeframe="swing"):
    if decision == "HOLD":
        stop = target = None
    if decision == "SELL":
        stop, target = 105.0, 90.0
    return Decision(decision=decision, confidence=conf, entry_price=entry, stop_loss=stop,
                    take_profit=target, position_size_suggestion=size, reasoning="r",
                    key_risks=["k"], timeframe=timeframe)


def test_unanimous_vote_keeps_confidence():
    c = vote([D(conf=80), D(conf=70), D(conf=90)])
    assert c.signal == "BUY" and c.agreement == 1.0 and c.decision.confidence == 80.0
    assert c.decision.entry_price == 100.0 and c.decision.stop_loss == 95.0


def test_confidence_weighted_vote_and_threshold():
    # BUY 80+80 = 160 vs HOLD 60: agreement 160/220, confidence 80 · 0.727 = 58.2 < 60
    c = vote([D(conf=80), D(conf=80), D("HOLD", conf=60)])
    assert c.votes == {"BUY": 160.0, "SELL": 0.0, "HOLD": 60.0}
    assert c.agreement == pytest.approx(160 / 220, abs=1e-4)
    assert c.raw_confidence == pytest.approx(80 * 160 / 220, abs=0.01)
    assert c.signal is None and c.decision.decision == "HOLD"
    # a stronger majority passes: 90, 90 vs HOLD 30 → 90 · 180/210 = 77.1
    c = vote([D(conf=90), D(conf=90), D("HOLD", conf=30)])
    assert c.signal == "BUY" and c.decision.confidence == pytest.approx(77.14, abs=0.01)
    # exactly at min_confidence is a signal
    assert vote([D(conf=60)] * 3).signal == "BUY"
    # the weighted vote can outvote a head count: two weak SELLs lose to one strong BUY
    c = vote([D(conf=95), D("SELL", conf=40), D("SELL", conf=40)])
    assert max(c.votes, key=c.votes.get) == "BUY" and c.signal is None


def test_contrarian_can_only_lower_confidence():
    base = [D(conf=75)] * 3
    assert vote(base, critique=Critique(agrees=True, objections=[],
                                        confidence_penalty=10)).signal == "BUY"  # 65
    c = vote(base, critique=Critique(agrees=False, objections=["stretched"],
                                     confidence_penalty=20))  # 55 < 60
    assert c.penalty == 20 and c.signal is None and c.decision.decision == "HOLD"
    assert "contrarian: stretched" in c.decision.key_risks
    capped = vote(base, critique=Critique(agrees=False, objections=[],
                                          confidence_penalty=90), max_penalty=30)
    assert capped.penalty == 30 and capped.decision.confidence == 45
    assert vote(base, critique=Critique(agrees=True, objections=[],
                                        confidence_penalty=0)).decision.confidence == 75


def test_too_few_models_and_ties_give_hold():
    c = vote([D(conf=90), D(conf=90)], min_models=3)
    assert c.signal is None and c.decision.confidence == 0 and c.n_models == 2
    c = vote([D(conf=70), D("SELL", conf=70), D("HOLD", conf=10)])
    assert c.decision.decision == "HOLD" and c.signal is None  # BUY/SELL tie


def test_decision_schema_rules():
    with pytest.raises(ValidationError, match="stop_loss < entry_price < take_profit"):
        D("BUY", stop=101.0)
    with pytest.raises(ValidationError, match="take_profit < entry_price < stop_loss"):
        Decision(decision="SELL", confidence=60, entry_price=100, stop_loss=95,
                 take_profit=90, reasoning="r")
    with pytest.raises(ValidationError):
        D(conf=101)
    with pytest.raises(ValidationError, match="needs entry_price"):
        Decision(decision="BUY", confidence=60, reasoning="r")
    with pytest.raises(ValidationError, match="above the maximum 0.1"):
        validate_output("decision", D(size=0.2).model_dump(), max_position_size=0.1)
    d = D(entry=100, stop=96, target=108)
    assert d.risk_reward_ratio == 2.0  # recomputed from the levels
    assert Decision(decision="hold", confidence=50, reasoning="r").decision == "HOLD"


def test_risk_check_limits():
    limits = RiskLimits()
    assert (limits.max_positions, limits.max_position_size, limits.daily_loss_limit_usd) == (
        10, 0.1, -1000.0)
    assert RiskLimits.from_config() == limits  # prompts.yaml has the seed defaults
    v = check(D(size=0.05), PortfolioState(3, -200.0), limits)
    assert v.approved and any("3 of 10" in r for r in v.reasons)
    v = check(D(size=0.05), PortfolioState(10, 0.0), limits)
    assert not v.approved and "10 positions already open" in v.reasons[0]
    v = check(D(size=0.05), PortfolioState(0, -1000.0), limits)
    assert not v.approved and "daily loss limit" in v.reasons[0]
    big = D().model_copy(update={"position_size_suggestion": 0.2})
    assert not check(big, PortfolioState(), limits).approved
    hold = check(D("HOLD"), PortfolioState(99, -5000.0), limits)
    assert hold.approved and hold.reasons == ["HOLD: nothing to trade"]
    custom = RiskLimits(max_positions=2)
    assert not check(D(), PortfolioState(2, 0.0), custom).approved


def test_prompts_yaml_has_the_six_prompts_and_sdk_model_ids():
    cfg = load_config()
    assert set(cfg.prompts) == {"master_analyst", "market_regime", "risk_assessment",
                                "momentum_catalyst", "contrarian", "exit_optimizer"}
    for p in cfg.prompts.values():
        assert p.version and p.max_tokens > 0 and 0 <= p.temperature <= 1
    known = set(typing.get_args(typing.get_args(anthropic.types.Model)[0]))
    assert {m.id for m in cfg.models.values()} <= known
    assert {m.tier for m in cfg.models.values()} == {"screening", "analysis", "deep"}
    assert cfg.cost_management.daily_limit_usd == 5.0
    assert cfg.cost_management.monthly_limit_usd == 100.0
    assert cfg.cost_management.cache_ttl_seconds == 300
    assert cfg.consensus.consensus_min_models == 3 and cfg.consensus.min_confidence == 60
    from anthropic.resources.messages.messages import DEPRECATED_MODELS

    assert not {m.id for m in cfg.models.values()} & set(DEPRECATED_MODELS)


@pytest.mark.parametrize("change, message", [
    (("model_preference: sonnet", "model_preference: gpt"), "model_preference is 'gpt'"),
    (("daily_limit_usd: 5.0", "daily_limit_usd: -1"), "daily_limit_usd"),
    (("  exit_optimizer:", "  exit_optimiser:"), "exit_optimizer"),
    (("{context}", "{contxt}"), "unknown placeholders ['contxt']"),
    (("max_tokens: 1200", "max_tokens: lots"), "max_tokens"),
    (("models:", "models: ["), "not valid YAML"),
])
def test_invalid_prompts_yaml_gives_a_clear_error(change, message):
    text = prompt_text().replace(*change, 1)
    with pytest.raises(LLMConfigError, match=None) as exc:
        parse_config(text, source="prompts.yaml")
    assert message in str(exc.value)
