"""Consensus of several analyses: confidence-weighted vote, contrarian pass, threshold.

Rules (settings under ``consensus`` in prompts.yaml):

1. Only valid analyses count (a failed or invalid call is left out, never replaced). With
   fewer than ``consensus_min_models`` of them there is no consensus: the result is HOLD
   with confidence 0 and ``signal`` None.
2. **Vote**: each analysis adds its confidence to its decision (BUY / SELL / HOLD). The
   decision with the largest total wins (ties → HOLD). ``agreement`` = winner's total /
   all totals (0–1).
3. **Confidence** = mean confidence of the winning analyses × agreement.
4. **Contrarian pass**: the contrarian's ``confidence_penalty`` (capped at
   ``contrarian_max_penalty``) is subtracted; it can only lower confidence.
5. **Signal**: BUY or SELL only when the final confidence is at least ``min_confidence``
   (60); otherwise the consensus decision is HOLD (``signal`` None).

Prices of a BUY/SELL consensus are the confidence-weighted means of the winning analyses'
levels; the suggested size is their weighted mean, scaled by agreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.llm.schema import Critique, Decision


@dataclass
class Consensus:
    decision: Decision
    signal: str | None  # "BUY" / "SELL" when actionable by confidence, else None
    agreement: float
    raw_confidence: float  # before the contrarian
    penalty: float
    votes: dict[str, float] = field(default_factory=dict)
    n_models: int = 0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.model_dump(), "signal": self.signal,
                "agreement": self.agreement, "raw_confidence": self.raw_confidence,
                "penalty": self.penalty, "votes": self.votes, "n_models": self.n_models,
                "note": self.note}


def _wmean(values: list[float], weights: list[float]) -> float:
    tw = sum(weights)
    if not tw:
        return sum(values) / len(values)
    return sum(v * w for v, w in zip(values, weights, strict=False)) / tw


def vote(decisions: list[Decision], *, critique: Critique | None = None,
         min_models: int = 3, min_confidence: float = 60.0, max_penalty: float = 30.0,
         price: float | None = None) -> Consensus:
    """Combine ``decisions`` by the rules in the module docstring."""
    n = len(decisions)
    if n < min_models:
        hold = Decision(decision="HOLD", confidence=0.0, entry_price=price,
                        reasoning=f"no consensus: {n} valid analyses, {min_models} needed",
                        key_risks=["too few analyses"], timeframe="swing")
        return Consensus(hold, None, 0.0, 0.0, 0.0, {}, n,
                         note=f"only {n} of {min_models} analyses succeeded")
    votes = {"BUY": 0.0, "SELL": 0.0, "HOLD": 0.0}
    for d in decisions:
        votes[d.decision] += d.confidence
    total = sum(votes.values())
    best = max(votes.values())
    leaders = [k for k, v in votes.items() if v == best]
    winner = leaders[0] if len(leaders) == 1 else "HOLD"
    agreement = votes[winner] / total if total else 0.0
    side = [d for d in decisions if d.decision == winner]
    mean_conf = sum(d.confidence for d in side) / len(side) if side else 0.0
    raw = mean_conf * agreement
    penalty = 0.0
    if critique is not None and winner != "HOLD":
        penalty = min(max(critique.confidence_penalty, 0.0), max_penalty)
    final = max(0.0, raw - penalty)
    risks: list[str] = []
    for d in side:
        risks += [r for r in d.key_risks if r not in risks]
    if critique is not None:
        risks += [f"contrarian: {o}" for o in critique.objections
                  if f"contrarian: {o}" not in risks]
    reasoning = (f"{len(side)} of {n} analyses say {winner} (agreement {agreement:.0%}); "
                 f"confidence {raw:.0f}" + (f" − contrarian {penalty:.0f}" if penalty else "")
                 + f" = {final:.0f}")
    signal = winner if winner != "HOLD" and final >= min_confidence else None
    if winner != "HOLD" and signal is None:
        reasoning += f", below the {min_confidence:.0f} needed for a signal: HOLD"
    if signal is None:
        entry = _wmean([d.entry_price for d in side if d.entry_price],
                       [d.confidence for d in side if d.entry_price]) if any(
            d.entry_price for d in side) else price
        dec = Decision(decision="HOLD", confidence=round(final if winner == "HOLD" else final, 2),
                       entry_price=entry, reasoning=reasoning, key_risks=risks[:6],
                       timeframe=side[0].timeframe if side else "swing")
    else:
        w = [d.confidence for d in side]
        size = _wmean([d.position_size_suggestion for d in side], w) * agreement
        dec = Decision(
            decision=winner, confidence=round(final, 2),
            entry_price=round(_wmean([d.entry_price for d in side], w), 6),
            stop_loss=round(_wmean([d.stop_loss for d in side], w), 6),
            take_profit=round(_wmean([d.take_profit for d in side], w), 6),
            position_size_suggestion=round(size, 6), reasoning=reasoning,
            key_risks=risks[:6], timeframe=max(
                (d.timeframe for d in side), key=[d.timeframe for d in side].count))
    return Consensus(dec, signal, round(agreement, 4), round(raw, 2), penalty,
                     votes, n)


def offline_duplicates(prompts: list[str]) -> tuple[int, str]:
    """How many distinct analyses an offline consensus really had, and a note saying so.

    Offline, the model does not change the answer: members with the same prompt run the same
    rules and agree with each other by construction, so their agreement is not evidence.
    ``prompts`` are the prompts of the members that answered; returns ``(distinct, note)``,
    the note empty when every member ran a different prompt.
    """
    counts: dict[str, int] = {}
    for p in prompts:
        counts[p] = counts.get(p, 0) + 1
    twice = [f"{p} ×{n}" for p, n in counts.items() if n > 1]
    if not twice:
        return len(counts), ""
    return len(counts), (
        f"offline: {len(prompts)} members but {len(counts)} distinct rule sets "
        f"({', '.join(twice)} — the same rules whatever the model), so the agreement counts "
        "identical answers more than once")


__all__ = ["Consensus", "offline_duplicates", "vote"]
