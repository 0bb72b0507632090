"""The analyst: analyse one symbol, screen many, replay over history.

- :func:`analyze` — one decision for ``symbol`` as of a date (default: the latest bar),
  single (``master_analyst`` on its preferred model) or ``consensus`` (the configured
  members, a contrarian pass, the market-regime and risk-assessment prompts), then the risk
  check (:mod:`engine.risk`) and a row in ``ai_decisions``. Returns the JSON document of
  ``python -m engine analyze --json``.
- :func:`screen` — the screening tier for every symbol (optionally as one Message Batch at
  half price), escalation to the analysis and deep tiers for the promising ones; a ranked
  list.
- :func:`estimate_replay` / :func:`replay` — one decision every N bars over a past period,
  each using only the data up to its as-of bar; the cost is estimated first and the replay
  refused when the estimate passes ``max_cost_usd``; outcomes are scored at the end.

``provider`` is ``"offline"``, ``"anthropic"`` or ``"auto"`` (anthropic when an API key is
available, else offline). Long calls take ``on_progress(done, total, message)``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl

from engine.errors import ParameterError, StratLabError
from engine.llm import costs, offline
from engine.llm.cache import system_blocks
from engine.llm.client import CallResult, ClaudeClient, render, resolve_api_key
from engine.llm.consensus import offline_duplicates, vote
from engine.llm.context import MarketContext, build_context
from engine.llm.escalation import next_tier
from engine.llm.prompts import LLMConfig, load_config
from engine.llm.schema import JSON_SCHEMAS, Critique, Decision, decision_dict
from engine.llm.tracking import (
    aggregate_daily,
    fill_outcomes,
    horizon_for,
    portfolio_state,
    record_decision,
)
from engine.progress import ProgressCallback, report
from engine.risk import RiskLimits, check

PROVIDERS = ("auto", "offline", "anthropic")


def resolve_provider(provider: str = "auto", api_key: str | None = None) -> str:
    """``"anthropic"`` or ``"offline"`` for a requested provider."""
    if provider not in PROVIDERS:
        raise ParameterError(f"unknown provider {provider!r}; use one of {PROVIDERS}")
    if provider == "auto":
        return "anthropic" if resolve_api_key(api_key) else "offline"
    return provider


class Runner:
    """Runs prompts on one provider: the Claude client or the offline analyst."""

    def __init__(self, provider: str = "auto", *, api_key: str | None = None,
                 client: ClaudeClient | None = None, cfg: LLMConfig | None = None):
        self.cfg = cfg or load_config()
        self.provider = "anthropic" if client is not None else resolve_provider(provider, api_key)
        self.client = client
        if self.provider == "anthropic" and self.client is None:
            self.client = ClaudeClient(api_key, cfg=self.cfg)

    def run(self, prompt: str, ctx: MarketContext, *, model_key: str | None = None,
            proposal: Decision | None = None) -> CallResult:
        if self.provider == "offline":
            res = offline.run(prompt, ctx, proposal=proposal, cfg=self.cfg)
            costs.record_offline(prompt=prompt, prompt_version=res.prompt_version,
                                 symbol=ctx.symbol)
            return res
        text = "" if proposal is None else _proposal_text(proposal)
        return self.client.call(prompt, ctx, model_key=model_key, proposal=text)


def _proposal_text(d: Decision) -> str:
    if d.decision == "HOLD":
        return f"HOLD (confidence {d.confidence:.0f})"
    return (f"{d.decision} at {d.entry_price:g}, stop {d.stop_loss:g}, target "
            f"{d.take_profit:g}, size {d.position_size_suggestion:g}, confidence "
            f"{d.confidence:.0f}")


def _frame(symbol: str, df: pl.DataFrame | None) -> pl.DataFrame:
    if df is not None:
        return df
    from engine.market import load_dataset

    return load_dataset(symbol)


def _summary(results: list[CallResult]) -> dict[str, Any]:
    return {
        "cost_usd": round(sum(r.cost_usd for r in results), 8),
        "cached": bool(results) and all(r.cached for r in results if r.ok),
        "cache_hits": sum(1 for r in results if r.cached),
        "saved_usd": round(sum(r.saved_usd for r in results), 8),
        "models": sorted({r.model_id for r in results if r.ok}),
        "input_tokens": sum(r.usage.input_tokens for r in results),
        "output_tokens": sum(r.usage.output_tokens for r in results),
    }


def analyze(symbol: str, as_of: Any = None, *, consensus: bool = False,
            provider: str = "auto", prompt: str = "master_analyst", model: str | None = None,
            api_key: str | None = None, client: ClaudeClient | None = None,
            runner: Runner | None = None, df: pl.DataFrame | None = None, record: bool = True,
            source: str = "analyze", on_progress: ProgressCallback | None = None,
            cfg: LLMConfig | None = None) -> dict[str, Any]:
    """Analyse ``symbol`` as of ``as_of``; see the module docstring. The result holds the
    CLI's keys (``symbol``, ``as_of``, ``provider``, ``models``, ``decision``, ``regime``,
    ``risk``, ``cost_usd``, ``cached``) plus ``analyses``, ``contrarian``, ``consensus``,
    ``signal``, ``actionable``, ``regime_view``, ``risk_view``, ``decision_id``, ``error``."""
    cfg = cfg or load_config()
    runner = runner or Runner(provider, api_key=api_key, client=client, cfg=cfg)
    frame = _frame(symbol, df)
    ctx = build_context(symbol, frame, as_of)
    results: list[CallResult] = []
    doc: dict[str, Any] = {
        "symbol": symbol, "as_of": ctx.as_of.isoformat(), "provider": runner.provider,
        "offline": runner.provider == "offline", "price": ctx.price, "regime": ctx.regime,
        "context": ctx.to_dict(), "analyses": [], "contrarian": None, "consensus": None,
        "regime_view": None, "risk_view": None, "decision": None, "signal": None,
        "actionable": False, "risk": {"approved": False, "reasons": []}, "decision_id": None,
        "error": None,
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
        r = runner.run(prompt, ctx, model_key=model)
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
            r = runner.run(m.prompt, ctx, model_key=m.model)
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
            r = runner.run(c.contrarian.prompt, ctx, model_key=c.contrarian.model,
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
            r = runner.run(name, ctx)
            results.append(r)
            prompt_versions[name] = r.prompt_version
            doc["regime_view" if j == 0 else "risk_view"] = (
                {**r.to_dict()} if r.ok else {"status": r.status, "error": r.error})
        report(on_progress, total, total, "done")
    doc["analyses"] = [r.to_dict() for r in results]
    doc.update(_summary(results))
    if decision is None:
        return doc
    limits = RiskLimits.from_config(cfg)
    verdict = check(decision, portfolio_state(ctx.as_of), limits)
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
            actionable=actionable, source=source,
            payload={k: doc[k] for k in ("analyses", "contrarian", "consensus")})
    return doc


# ----------------------------------------------------------------------------- screen

def screen(symbols: list[str], as_of: Any = None, *, provider: str = "auto",
           batch: bool = False, escalate: bool = True, api_key: str | None = None,
           client: ClaudeClient | None = None, record: bool = True,
           frames: dict[str, pl.DataFrame] | None = None, batch_sleep: Any = None,
           on_progress: ProgressCallback | None = None,
           cfg: LLMConfig | None = None) -> list[dict[str, Any]]:
    """Screen ``symbols`` on the screening tier, escalate the promising; ranked rows
    ``{"rank", "symbol", "decision", "confidence", "tier", "models", "cost_usd", "cached",
    "actionable", "risk", "error", …}`` (actionable BUY/SELL first, then by confidence)."""
    cfg = cfg or load_config()
    if not symbols:
        raise ParameterError("screen needs at least one symbol")
    runner = Runner(provider, api_key=api_key, client=client, cfg=cfg)
    frames = frames or {}
    ctxs: dict[str, MarketContext] = {}
    errors: dict[str, str] = {}
    for s in symbols:
        try:
            ctxs[s] = build_context(s, _frame(s, frames.get(s)), as_of)
        except StratLabError as exc:
            errors[s] = str(exc)
    use_batch = batch and runner.provider == "anthropic"
    chains: dict[str, list[CallResult]] = {s: [] for s in ctxs}
    cur: dict[str, Decision | None] = {s: None for s in ctxs}
    prev: dict[str, Decision | None] = {s: None for s in ctxs}
    tier_of: dict[str, str] = {s: "screening" for s in ctxs}
    # All symbols move through the tiers together: screening for all, then one analysis
    # stage for the promising, then one deep stage for the important — each stage one
    # Message Batch when batching (half price), else interactive calls.
    stage, pending, done_calls = "screening", list(ctxs), 0
    total = len(ctxs)
    batch_notes: list[str] = []
    while pending:
        key = cfg.tier_key(stage)
        results: dict[str, CallResult] = {}
        fallback = False
        if use_batch:
            from engine.llm.batch import BatchFailed, BatchItem, run_batch, safe_id

            items = [BatchItem(safe_id(s, i), "master_analyst", ctxs[s], key)
                     for i, s in enumerate(pending)]
            kw = {"sleep": batch_sleep} if batch_sleep is not None else {}
            try:
                got = run_batch(runner.client, items, on_progress=on_progress, **kw)
                results = {it.ctx.symbol: got[it.custom_id] for it in items}
            except BatchFailed as exc:  # fall back to interactive calls for this stage
                batch_notes.append(f"{stage}: {exc}; fell back to interactive calls")
                fallback = True
        for s in pending:
            if s in results:
                continue
            report(on_progress, done_calls, total, f"{stage}: {s}")
            try:
                results[s] = runner.run("master_analyst", ctxs[s], model_key=key)
            except costs.BudgetExceeded as exc:
                if not fallback:
                    raise
                # the batch was abandoned and its fallback refused: no answer, and why
                results[s] = CallResult(prompt="master_analyst", prompt_version="",
                                        model_key=key, model_id="", provider=runner.provider,
                                        status="refused", error=str(exc))
            done_calls += 1
        nxt = []
        for s in pending:
            r = results[s]
            chains[s].append(r)
            if not r.ok:
                continue  # keep the last good tier's decision; never invent one
            prev[s], cur[s], tier_of[s] = cur[s], r.output, stage
            if escalate and next_tier(stage, prev[s], cur[s], cfg.escalation):
                nxt.append(s)
        if nxt:
            total += len(nxt)
            stage = next_tier(stage, prev[nxt[0]], cur[nxt[0]], cfg.escalation)
        pending = nxt
    rows = []
    for s in symbols:
        if s in errors:
            rows.append({"symbol": s, "decision": None, "confidence": None, "tier": None,
                         "error": errors[s], "cost_usd": 0.0, "models": [], "cached": False,
                         "actionable": False, "provider": runner.provider})
            continue
        ctx, chain, tier, cur_s = ctxs[s], chains[s], tier_of[s], cur[s]
        summ = _summary(chain)
        row = {"symbol": s, "provider": runner.provider, "tier": tier,
               "as_of": ctx.as_of.isoformat(), "price": ctx.price, "regime": ctx.regime,
               **summ,
               "error": None if cur_s else (chain[-1].error or chain[-1].status)}
        if batch_notes:
            row["batch_note"] = "; ".join(batch_notes)
        if cur_s is not None:
            verdict = check(cur_s, portfolio_state(ctx.as_of), RiskLimits.from_config(cfg))
            confident = cur_s.confidence >= cfg.consensus.min_confidence
            row.update(decision=cur_s.decision, confidence=cur_s.confidence,
                       position_size=cur_s.position_size_suggestion,
                       risk=verdict.to_dict(),
                       actionable=cur_s.decision != "HOLD" and verdict.approved and confident,
                       reasoning=cur_s.reasoning)
            if record:
                row["decision_id"] = record_decision(
                    ticker=s, as_of=ctx.as_of, as_of_price=ctx.price, decision=cur_s.decision,
                    confidence=cur_s.confidence, models_used=summ["models"],
                    total_cost=summ["cost_usd"], provider=runner.provider,
                    prompt_name="master_analyst", prompt_version=chain[-1].prompt_version,
                    prompt_versions={"master_analyst": chain[-1].prompt_version},
                    regime=ctx.regime, timeframe=cur_s.timeframe,
                    horizon_bars=horizon_for(cur_s.timeframe, cfg), entry_price=cur_s.entry_price,
                    stop_loss=cur_s.stop_loss, take_profit=cur_s.take_profit,
                    position_size=cur_s.position_size_suggestion, risk_approved=verdict.approved,
                    risk_reasons=verdict.reasons, actionable=row["actionable"],
                    source="screen", payload={"tiers": [c.to_dict() for c in chain]})
        else:
            row.update(decision=None, confidence=None, actionable=False)
        rows.append(row)
    report(on_progress, total, total, "done")
    rows.sort(key=lambda r: (not r["actionable"], r["decision"] in (None, "HOLD"),
                             -(r["confidence"] or 0.0)))
    for k, r in enumerate(rows, 1):
        r["rank"] = k
    return rows


# ----------------------------------------------------------------------------- replay

def replay_dates(df: pl.DataFrame, start: Any, end: Any, every: int) -> list[datetime]:
    """The as-of bars of a replay: every ``every``-th bar inside [start, end]."""
    from engine.market.store import filter_window

    if every < 1:
        raise ParameterError("--every must be at least 1 bar")
    window = filter_window(df, start, end, label="replay")
    return window["timestamp"].to_list()[::every]


def estimate_replay(symbol: str, start: Any, end: Any, every: int, *,
                    consensus: bool = False, provider: str = "auto",
                    api_key: str | None = None, df: pl.DataFrame | None = None,
                    cfg: LLMConfig | None = None) -> dict[str, Any]:
    """How many decisions a replay makes and what it may cost, before running it:
    ``{"n_decisions", "calls", "provider", "max_cost_usd", "expected_cost_usd"}``.
    ``max_cost_usd`` is what the calls reserve: the bound of each request's input
    (:func:`engine.llm.costs.input_token_bound`) and full output (what the budget checks);
    ``expected_cost_usd`` assumes replies of 40 % of max_tokens and no cache hits."""
    cfg = cfg or load_config()
    prov = resolve_provider(provider, api_key)
    frame = _frame(symbol, df)
    dates = replay_dates(frame, start, end, every)
    n = len(dates)
    if consensus:
        calls = [(m.prompt, m.model) for m in cfg.consensus.members] + [
            (cfg.consensus.contrarian.prompt, cfg.consensus.contrarian.model),
            ("market_regime", None), ("risk_assessment", None)]
    else:
        calls = [("master_analyst", None)]
    max_one = exp_one = 0.0
    if prov == "anthropic" and n:
        ctx = build_context(symbol, frame, dates[0]) if frame.filter(
            pl.col("timestamp") <= dates[0]).height >= 30 else build_context(symbol, frame)
        system = json.dumps(system_blocks(cfg))
        for prompt, mkey in calls:
            spec = cfg.prompt(prompt)
            model = cfg.model(mkey or spec.model_preference)
            user = render(spec, ctx, cfg)
            # the bound a call reserves (the request's bytes, +300 for a proposal's text)
            request = system + json.dumps([{"role": "user", "content": user}]) + json.dumps(
                {"format": {"type": "json_schema", "schema": JSON_SCHEMAS[spec.output]}})
            bound = costs.input_token_bound(request, cfg) + 300
            tokens = costs.estimate_tokens(cfg.system_text() + user, cfg) + 300
            max_one += costs.max_cost(model, bound, spec.max_tokens)
            exp_one += costs.price(model, costs.Usage(tokens, int(0.4 * spec.max_tokens)))
    return {"symbol": symbol, "n_decisions": n, "calls": n * len(calls), "provider": prov,
            "max_cost_usd": round(max_one * n, 6), "expected_cost_usd": round(exp_one * n, 6)}


def replay(symbol: str, start: Any, end: Any, every: int, *, consensus: bool = False,
           provider: str = "auto", max_cost_usd: float | None = None,
           api_key: str | None = None, client: ClaudeClient | None = None,
           df: pl.DataFrame | None = None, on_progress: ProgressCallback | None = None,
           cfg: LLMConfig | None = None) -> dict[str, Any]:
    """Replay the analyst over [start, end], one decision every ``every`` bars."""
    cfg = cfg or load_config()
    frame = _frame(symbol, df)
    runner = Runner(provider, api_key=api_key, client=client, cfg=cfg)
    est = estimate_replay(symbol, start, end, every, consensus=consensus,
                          provider=runner.provider, df=frame, cfg=cfg)
    if max_cost_usd is not None and est["max_cost_usd"] > max_cost_usd + 1e-12:
        raise StratLabError(
            f"replay refused: it may cost up to ${est['max_cost_usd']:.4f} "
            f"({est['calls']} calls), above --max-cost ${max_cost_usd:.4f}; raise --max-cost, "
            "choose a larger --every or a shorter period, or use --provider offline")
    dates = replay_dates(frame, start, end, every)
    out, skipped = [], 0
    for i, d in enumerate(dates):
        report(on_progress, i, len(dates), f"{symbol} as of {d:%Y-%m-%d}")
        try:
            doc = analyze(symbol, d, consensus=consensus, runner=runner, df=frame,
                          source="replay", cfg=cfg)
        except ParameterError:
            skipped += 1  # not enough history before this as-of date
            continue
        dec = doc["decision"] or {}
        out.append({"as_of": doc["as_of"], "decision": dec.get("decision"),
                    "confidence": dec.get("confidence"), "actionable": doc["actionable"],
                    "cost_usd": doc["cost_usd"], "decision_id": doc["decision_id"],
                    "error": doc["error"]})
    report(on_progress, len(dates), len(dates), "scoring outcomes")
    fill_outcomes(loader=lambda s: frame if s == symbol else _frame(s, None), cfg=cfg)
    aggregate_daily()
    from engine import db
    from engine.llm.tables import AIDecision  # scored results of this replay

    ids = [o["decision_id"] for o in out if o["decision_id"]]
    with db.session_scope() as s:
        scored = {r.id: r for r in (s.get(AIDecision, i) for i in ids) if r is not None}
    for o in out:
        r = scored.get(o["decision_id"])
        o["actual_outcome"] = r.actual_outcome if r else None
        o["correct"] = r.correct if r else None
        o["pnl_usd"] = r.pnl_usd if r else None
    done = [o for o in out if o["correct"] is not None]
    followed = [o for o in done if o["actionable"] and o["pnl_usd"] is not None]
    return {
        "symbol": symbol, "start": str(start), "end": str(end), "every": every,
        "provider": runner.provider, "offline": runner.provider == "offline",
        "estimate": est, "n_decisions": len(out), "skipped": skipped,
        "cost_usd": round(sum(o["cost_usd"] for o in out), 8),
        "accuracy": (sum(1 for o in done if o["correct"]) / len(done)) if done else None,
        "win_rate": (sum(1 for o in followed if o["pnl_usd"] > 0) / len(followed))
        if followed else None,
        "pnl_usd": sum(o["pnl_usd"] for o in followed),
        "decisions": out,
    }


__all__ = ["PROVIDERS", "Runner", "analyze", "estimate_replay", "replay", "replay_dates",
           "resolve_provider", "screen"]
