"""Screen many symbols on the screening tier and escalate the promising ones (analysis,
then deep tier), optionally as Message Batches at half price; a ranked list."""

from __future__ import annotations

from typing import Any

import polars as pl

from engine.errors import ParameterError, StratLabError
from engine.llm import costs
from engine.llm.client import CallResult, ClaudeClient
from engine.llm.context import MarketContext, build_context
from engine.llm.escalation import next_tier
from engine.llm.lookahead import decision_window
from engine.llm.prompts import LLMConfig, load_config
from engine.llm.runner import Runner, load_frame, summary
from engine.llm.schema import Decision
from engine.llm.tracking import horizon_for, portfolio_state, record_decision
from engine.progress import ProgressCallback, report
from engine.risk import RiskLimits, check


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
            ctxs[s] = build_context(s, load_frame(s, frames.get(s)), as_of)
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
        summ = summary(chain)
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
                    source="screen", **decision_window(ctx.as_of, summ["models"], cfg),
                    payload={"tiers": [c.to_dict() for c in chain]})
        else:
            row.update(decision=None, confidence=None, actionable=False)
        rows.append(row)
    report(on_progress, total, total, "done")
    rows.sort(key=lambda r: (not r["actionable"], r["decision"] in (None, "HOLD"),
                             -(r["confidence"] or 0.0)))
    for k, r in enumerate(rows, 1):
        r["rank"] = k
    return rows


__all__ = ["screen"]
