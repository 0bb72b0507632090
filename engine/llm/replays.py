"""Replaying the analyst over history, with the look-ahead controls.

- :func:`replay_dates` — every N-th bar of [start, end]; each decision uses only the data
  up to its as-of bar.
- :func:`estimate_replay` — how many decisions and calls, what they may cost (the budget's
  reservations) and, before anything runs, how many decisions lie inside the models'
  training window (:func:`engine.llm.lookahead.exposure`, with the warning to show).
- :func:`replay` — the decisions, scored at the end. On Claude a replay is **blind** by
  default (:mod:`engine.llm.blind`; ``blind=False`` for named); ``paired=True`` runs a named
  and a blind decision for every as-of date and reports their agreement and accuracy gap;
  every Claude replay also records the **offline analyst** for the same dates at zero cost
  (the control arm, ``arm="control"``) and compares Claude with it and with buy-and-hold
  (:mod:`engine.llm.scorecard`). Each arm keeps its own book for the risk check. All rows of
  one replay share a ``replay_id``.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

import polars as pl

from engine.errors import ParameterError, StratLabError
from engine.llm import costs, scorecard
from engine.llm.analysis import analyze
from engine.llm.blind import blind_context
from engine.llm.cache import system_blocks
from engine.llm.client import ClaudeClient, render
from engine.llm.context import build_context
from engine.llm.lookahead import exposure
from engine.llm.prompts import LLMConfig, load_config
from engine.llm.runner import Runner, load_frame, resolve_provider
from engine.llm.schema import JSON_SCHEMAS
from engine.llm.tracking import aggregate_daily, fill_outcomes
from engine.progress import ProgressCallback, report

log = logging.getLogger(__name__)


def replay_dates(df: pl.DataFrame, start: Any, end: Any, every: int) -> list[datetime]:
    """The as-of bars of a replay: every ``every``-th bar inside [start, end]."""
    from engine.market.store import filter_window

    if every < 1:
        raise ParameterError("--every must be at least 1 bar")
    window = filter_window(df, start, end, label="replay")
    return window["timestamp"].to_list()[::every]


def replay_arms(provider: str, blind: bool | None, paired: bool) -> list[tuple[str, bool]]:
    """``[(arm, blind?)]`` of a replay: named and blind when paired, else one arm — blind
    by default on Claude, named on the offline analyst."""
    if paired:
        return [("named", False), ("blind", True)]
    b = (provider == "anthropic") if blind is None else bool(blind)
    return [("blind" if b else "named", b)]


def _calls(consensus: bool, cfg: LLMConfig) -> list[tuple[str, str | None]]:
    if consensus:
        return [(m.prompt, m.model) for m in cfg.consensus.members] + [
            (cfg.consensus.contrarian.prompt, cfg.consensus.contrarian.model),
            ("market_regime", None), ("risk_assessment", None)]
    return [("master_analyst", None)]


def estimate_replay(symbol: str, start: Any, end: Any, every: int, *,
                    consensus: bool = False, provider: str = "auto",
                    api_key: str | None = None, df: pl.DataFrame | None = None,
                    cfg: LLMConfig | None = None, blind: bool | None = None,
                    paired: bool = False, control: bool | None = None) -> dict[str, Any]:
    """How many decisions a replay makes and what it may cost, before running it:
    ``{"n_decisions", "calls", "provider", "max_cost_usd", "expected_cost_usd", "dates",
    "arms", "control_decisions", "training_cutoff", "in_training_window", "after_cutoff",
    "lookahead_warning"}``. ``max_cost_usd`` is what the calls reserve: the bound of each
    request's input (:func:`engine.llm.costs.input_token_bound`) and full output (what the
    budget checks; a blind arm is bounded by the larger of its named and blind prompts);
    ``expected_cost_usd`` assumes replies of 40 % of max_tokens and no cache hits. The
    offline control arm costs nothing."""
    cfg = cfg or load_config()
    prov = resolve_provider(provider, api_key)
    frame = load_frame(symbol, df)
    dates = replay_dates(frame, start, end, every)
    n = len(dates)
    arms = replay_arms(prov, blind, paired)
    calls = _calls(consensus, cfg)
    max_one = exp_one = 0.0
    cutoff = None
    if prov == "anthropic":
        ids = [cfg.model(mkey or cfg.prompt(p).model_preference).id for p, mkey in calls]
        cutoff = cfg.cutoff_for(ids)
    if prov == "anthropic" and n:
        ctx = build_context(symbol, frame, dates[0]) if frame.filter(
            pl.col("timestamp") <= dates[0]).height >= 30 else build_context(symbol, frame)
        system = json.dumps(system_blocks(cfg))
        for _, is_blind in arms:
            views = [ctx, blind_context(ctx)] if is_blind else [ctx]
            for prompt, mkey in calls:
                spec = cfg.prompt(prompt)
                model = cfg.model(mkey or spec.model_preference)
                worst = exp = 0.0
                for view in views:
                    user = render(spec, view, cfg)
                    # the bound a call reserves (the request's bytes, +300 for a proposal)
                    request = system + json.dumps([{"role": "user", "content": user}]) + (
                        json.dumps({"format": {"type": "json_schema",
                                               "schema": JSON_SCHEMAS[spec.output]}}))
                    bound = costs.input_token_bound(request, cfg) + 300
                    tokens = costs.estimate_tokens(cfg.system_text() + user, cfg) + 300
                    worst = max(worst, costs.max_cost(model, bound, spec.max_tokens))
                    exp = max(exp, costs.price(model, costs.Usage(
                        tokens, int(0.4 * spec.max_tokens))))
                max_one += worst
                exp_one += exp
    with_control = (prov == "anthropic") if control is None else bool(control)
    return {"symbol": symbol, "n_decisions": n * len(arms), "calls": n * len(calls) * len(arms),
            "provider": prov, "max_cost_usd": round(max_one * n, 6),
            "expected_cost_usd": round(exp_one * n, 6), "dates": n,
            "arms": [a for a, _ in arms], "control_decisions": n if with_control else 0,
            **exposure(dates, cutoff, per_date=len(arms))}


def _row(doc: dict[str, Any], arm: str) -> dict[str, Any]:
    dec = doc["decision"] or {}
    return {"as_of": doc["as_of"], "arm": arm, "blind": doc["blind"],
            "decision": dec.get("decision"), "confidence": dec.get("confidence"),
            "actionable": doc["actionable"], "cost_usd": doc["cost_usd"],
            "decision_id": doc["decision_id"], "in_training_window": doc["in_training_window"],
            "error": doc["error"]}


def replay(symbol: str, start: Any, end: Any, every: int, *, consensus: bool = False,
           provider: str = "auto", max_cost_usd: float | None = None,
           api_key: str | None = None, client: ClaudeClient | None = None,
           df: pl.DataFrame | None = None, on_progress: ProgressCallback | None = None,
           cfg: LLMConfig | None = None, blind: bool | None = None, paired: bool = False,
           control: bool | None = None, seed: int = 0) -> dict[str, Any]:
    """Replay the analyst over [start, end], one decision every ``every`` bars (per arm);
    see the module docstring. ``control`` (default: on Claude) records the offline control
    arm; ``seed`` seeds the bootstrap intervals."""
    cfg = cfg or load_config()
    frame = load_frame(symbol, df)
    runner = Runner(provider, api_key=api_key, client=client, cfg=cfg)
    arms = replay_arms(runner.provider, blind, paired)
    with_control = (runner.provider == "anthropic") if control is None else bool(control)
    est = estimate_replay(symbol, start, end, every, consensus=consensus,
                          provider=runner.provider, df=frame, cfg=cfg, blind=blind,
                          paired=paired, control=with_control)
    if max_cost_usd is not None and est["max_cost_usd"] > max_cost_usd + 1e-12:
        raise StratLabError(
            f"replay refused: it may cost up to ${est['max_cost_usd']:.4f} "
            f"({est['calls']} calls), above --max-cost ${max_cost_usd:.4f}; raise --max-cost, "
            "choose a larger --every or a shorter period, or use --provider offline")
    if est["lookahead_warning"]:
        log.warning("replay of %s: %s", symbol, est["lookahead_warning"])
    replay_id = uuid.uuid4().hex
    offline_runner = Runner("offline", cfg=cfg) if with_control else None
    dates = replay_dates(frame, start, end, every)
    out: list[dict[str, Any]] = []
    control_rows: list[dict[str, Any]] = []
    skipped = 0
    for i, d in enumerate(dates):
        report(on_progress, i, len(dates), f"{symbol} as of {d:%Y-%m-%d}")
        try:
            docs = [(arm, analyze(symbol, d, consensus=consensus, runner=runner, df=frame,
                                  source="replay", cfg=cfg, blind=b, arm=arm,
                                  replay_id=replay_id)) for arm, b in arms]
        except ParameterError:
            skipped += 1  # not enough history before this as-of date
            continue
        out.extend(_row(doc, arm) for arm, doc in docs)
        if offline_runner is not None:
            cdoc = analyze(symbol, d, consensus=consensus, runner=offline_runner, df=frame,
                           source="replay", cfg=cfg, arm="control", replay_id=replay_id)
            control_rows.append(_row(cdoc, "control"))
    report(on_progress, len(dates), len(dates), "scoring outcomes")
    fill_outcomes(loader=lambda s: frame if s == symbol else load_frame(s, None), cfg=cfg)
    aggregate_daily()
    from engine import db
    from engine.llm.tables import AIDecision  # scored results of this replay

    with db.session_scope() as s:
        from sqlmodel import select

        rows = list(s.exec(select(AIDecision).where(AIDecision.replay_id == replay_id)))
    scored = {r.id: r for r in rows}
    for o in (*out, *control_rows):
        r = scored.get(o["decision_id"])
        o["actual_outcome"] = r.actual_outcome if r else None
        o["correct"] = r.correct if r else None
        o["pnl_usd"] = r.pnl_usd if r else None
        o["raw_move_pct"] = r.raw_move_pct if r else None
    done = [o for o in out if o["correct"] is not None]
    followed = [o for o in done if o["actionable"] and o["pnl_usd"] is not None]
    main = [r for r in rows if r.arm != "control"]
    doc: dict[str, Any] = {
        "symbol": symbol, "start": str(start), "end": str(end), "every": every,
        "provider": runner.provider, "offline": runner.provider == "offline",
        "estimate": est, "n_decisions": len(out), "skipped": skipped,
        "cost_usd": round(sum(o["cost_usd"] for o in out), 8),
        "accuracy": (sum(1 for o in done if o["correct"]) / len(done)) if done else None,
        "win_rate": (sum(1 for o in followed if o["pnl_usd"] > 0) / len(followed))
        if followed else None,
        "pnl_usd": sum(o["pnl_usd"] for o in followed),
        "decisions": out,
        "replay_id": replay_id, "arms": [a for a, _ in arms],
        "blind": all(b for _, b in arms), "warning": est["lookahead_warning"],
        "by_arm": {a: scorecard.rates([r for r in rows if r.arm == a]) for a, _ in arms},
        "training_window": scorecard.by_window(main),
        "uncertainty": scorecard.uncertainty(main, cfg, seed=seed),
        "paired": scorecard.paired(rows) if paired else None,
        "control": None, "comparison": None,
    }
    if with_control:
        doc["control"] = {**scorecard.rates([r for r in rows if r.arm == "control"]),
                          "decisions": control_rows}
        # the main arm against the control (on the offline provider: a dry run of the same)
        doc["comparison"] = scorecard.arms(rows, cfg, main=lambda r: r.arm != "control")
    return doc


__all__ = ["estimate_replay", "replay", "replay_arms", "replay_dates"]
