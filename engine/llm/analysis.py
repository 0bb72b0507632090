"""Analyse one symbol as of one date: a single prompt or the consensus, the risk check and
a row in ``ai_decisions`` (the document of ``python -m engine analyze --json``).

``blind=True`` sends a blind snapshot (:mod:`engine.llm.blind`: no symbol, no dates,
prices rebased to 100); the reply's levels come back on the real scale, so validation, the
risk check, consensus and the recorded row all see real prices. Every recorded decision
says whether its as-of date is inside the training window of the models it used
(:mod:`engine.llm.lookahead`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from engine.errors import ParameterError
from engine.llm.blind import blind_context
from engine.llm.client import CallResult, ClaudeClient
from engine.llm.consensus import offline_duplicates, vote
from engine.llm.context import build_context
from engine.llm.lookahead import decision_window
from engine.llm.prompts import LLMConfig, load_config
from engine.llm.runner import Runner, load_frame, summary
from engine.llm.schema import Critique, Decision, decision_dict
from engine.llm.tracking import horizon_for, portfolio_state, record_decision
from engine.progress import ProgressCallback, report
from engine.risk import RiskLimits, check


def analyze(symbol: str, as_of: Any = None, *, consensus: bool = False,
            provider: str = "auto", prompt: str = "master_analyst", model: str | None = None,
            api_key: str | None = None, client: ClaudeClient | None = None,
            runner: Runner | None = None, df: pl.DataFrame | None = None, record: bool = True,
            source: str = "analyze", on_progress: ProgressCallback | None = None,
            cfg: LLMConfig | None = None, blind: bool = False, arm: str = "",
            replay_id: str = "") -> dict[str, Any]:
    """Analyse ``symbol`` as of ``as_of``; see the module docstring. The result holds the
    CLI's keys (``symbol``, ``as_of``, ``provider``, ``models``, ``decision``, ``regime``,
    ``risk``, ``cost_usd``, ``cached``) plus ``analyses``, ``contrarian``, ``consensus``,
    ``signal``, ``actionable``, ``regime_view``, ``risk_view``, ``decision_id``, ``error``,
    ``blind``, ``prompt_context`` (the snapshot text the model was shown),
    ``training_cutoff`` and ``in_training_window``. ``arm`` and ``replay_id`` tag a
    replay's decisions (named / blind / control) and keep each arm's risk check to its own
    open positions."""
    cfg = cfg or load_config()
    runner = runner or Runner(provider, api_key=api_key, client=client, cfg=cfg)
    frame = load_frame(symbol, df)
    ctx = build_context(symbol, frame, as_of)
    shown = blind_context(ctx) if blind else ctx
    results: list[CallResult] = []
    doc: dict[str, Any] = {
        "symbol": symbol, "as_of": ctx.as_of.isoformat(), "provider": runner.provider,
        "offline": runner.provider == "offline", "price": ctx.price, "regime": ctx.regime,
        "context": ctx.to_dict(), "analyses": [], "contrarian": None, "consensus": None,
        "regime_view": None, "risk_view": None, "decision": None, "signal": None,
        "actionable": False, "risk": {"approved": False, "reasons": []}, "decision_id": None,
        "error": None, "blind": bool(blind), "prompt_context": shown.text(),
        "training_cutoff": None, "in_training_window": None,
    }
    decision: Decision | None = None
    agreement = None
    prompt_versions: dict[str, str] = {}
    if not consensus:
        spec = cfg.prompt(prompt)
        if spec.output != "decision":
            raise ParameterError(f"prompt {prompt!r} does not return a decision; use "
                                 "master_analyst, momentum_catalyst or exit_optimizer")
        report(on_progress, 0, 1, f"{prompt} on {symbol}")
        r = runner.run(prompt, shown, model_key=model)
        results.append(r)
        report(on_progress, 1, 1, r.status)
        decision = r.output if r.ok else None
        prompt_versions[prompt] = r.prompt_version
        if decision is None:
            doc["error"] = f"{prompt} on {r.model_id} failed ({r.status}): {r.error}"
    else:
        c = cfg.consensus
        members = c.members
        total = len(members) + 3
        decisions: list[Decision] = []
        for i, m in enumerate(members):
            report(on_progress, i, total, f"{m.prompt} on {m.model}")
            r = runner.run(m.prompt, shown, model_key=m.model)
            results.append(r)
            prompt_versions[m.prompt] = r.prompt_version
            if r.ok:
                decisions.append(r.output)
        pre = vote(decisions, min_models=c.consensus_min_models,
                   min_confidence=c.min_confidence, max_penalty=c.contrarian_max_penalty,
                   price=ctx.price)
        report(on_progress, len(members), total, "contrarian")
        crit: Critique | None = None
        winner = max(pre.votes, key=pre.votes.get) if pre.votes else "HOLD"
        if pre.n_models >= c.consensus_min_models and winner != "HOLD":
            proposal = next((d for d in decisions if d.decision == winner), pre.decision)
            r = runner.run(c.contrarian.prompt, shown, model_key=c.contrarian.model,
                           proposal=proposal)
            results.append(r)
            prompt_versions[c.contrarian.prompt] = r.prompt_version
            crit = r.output if r.ok else None
            doc["contrarian"] = {**r.to_dict(), "critique": crit.model_dump() if crit else None}
        final = vote(decisions, critique=crit, min_models=c.consensus_min_models,
                     min_confidence=c.min_confidence, max_penalty=c.contrarian_max_penalty,
                     price=ctx.price)
        doc["consensus"] = final.to_dict()
        if runner.provider == "offline":
            answered = [r.prompt for r in results[:len(members)] if r.ok]
            distinct, note = offline_duplicates(answered)
            doc["consensus"]["distinct"] = distinct
            if note:
                doc["consensus"]["note"] = "; ".join(x for x in (final.note, note) if x)
        agreement = final.agreement
        if final.n_models >= c.consensus_min_models:
            decision = final.decision
            doc["signal"] = final.signal
        else:
            doc["error"] = f"no consensus: {final.note}"
        for j, name in enumerate(("market_regime", "risk_assessment")):
            report(on_progress, len(members) + 1 + j, total, name)
            r = runner.run(name, shown)
            results.append(r)
            prompt_versions[name] = r.prompt_version
            doc["regime_view" if j == 0 else "risk_view"] = (
                {**r.to_dict()} if r.ok else {"status": r.status, "error": r.error})
        report(on_progress, total, total, "done")
    doc["analyses"] = [r.to_dict() for r in results]
    doc.update(summary(results))
    window = decision_window(ctx.as_of, doc["models"], cfg)
    doc["training_cutoff"] = (window["training_cutoff"].isoformat()
                              if window["training_cutoff"] else None)
    doc["in_training_window"] = window["in_training_window"]
    if decision is None:
        return doc
    limits = RiskLimits.from_config(cfg)
    verdict = check(decision, portfolio_state(ctx.as_of, arm=arm, replay_id=replay_id), limits)
    confident = decision.confidence >= cfg.consensus.min_confidence
    if doc["signal"] is None and not consensus and decision.decision != "HOLD" and confident:
        doc["signal"] = decision.decision
    actionable = decision.decision != "HOLD" and verdict.approved and doc["signal"] is not None
    reasons = list(verdict.reasons)
    if decision.decision != "HOLD" and not confident:
        reasons.append(f"confidence {decision.confidence:.0f} is below the "
                       f"{cfg.consensus.min_confidence:.0f} needed for a signal")
    doc["decision"] = decision_dict(decision)
    doc["risk"] = {"approved": verdict.approved, "reasons": reasons}
    doc["actionable"] = actionable
    if record:
        doc["decision_id"] = record_decision(
            ticker=symbol, as_of=ctx.as_of, as_of_price=ctx.price, decision=decision.decision,
            confidence=decision.confidence, models_used=doc["models"],
            total_cost=doc["cost_usd"], provider=runner.provider,
            prompt_name="consensus" if consensus else prompt,
            prompt_version=("+".join(f"{k}@{v}" for k, v in sorted(prompt_versions.items()))
                            if consensus else prompt_versions.get(prompt, "")),
            prompt_versions=prompt_versions, regime=ctx.regime, timeframe=decision.timeframe,
            horizon_bars=horizon_for(decision.timeframe, cfg), entry_price=decision.entry_price,
            stop_loss=decision.stop_loss, take_profit=decision.take_profit,
            position_size=decision.position_size_suggestion, consensus=consensus,
            agreement=agreement, risk_approved=verdict.approved, risk_reasons=reasons,
            actionable=actionable, source=source, blind=bool(blind), arm=arm,
            replay_id=replay_id, **window,
            payload={k: doc[k] for k in ("analyses", "contrarian", "consensus")})
    return doc


__all__ = ["analyze"]
