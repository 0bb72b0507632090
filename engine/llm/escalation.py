"""Tiered escalation Haiku → Sonnet → Opus by importance (settings: ``escalation``).

- Every symbol starts on the **screening** tier (Haiku).
- A screening BUY/SELL with confidence ≥ ``analysis_min_confidence`` is promising: it goes
  to the **analysis** tier (Sonnet).
- The analysis goes to the **deep** tier (Opus) when it is important — a BUY/SELL with
  confidence ≥ ``deep_min_confidence`` *and* size ≥ ``deep_min_position_size`` — or when
  it disagrees with the screening decision (``deep_on_disagreement``).

The last tier reached decides; the earlier ones are kept for the record.
"""

from __future__ import annotations

from engine.llm.prompts import EscalationSettings
from engine.llm.schema import Decision

TIERS = ("screening", "analysis", "deep")


def needs_analysis(screen: Decision, s: EscalationSettings) -> bool:
    """Is a screening decision promising enough for the analysis tier?"""
    return screen.decision != "HOLD" and screen.confidence >= s.analysis_min_confidence


def needs_deep(screen: Decision | None, analysis: Decision, s: EscalationSettings) -> bool:
    """Is an analysis important (or contested) enough for the deep tier?"""
    important = (analysis.decision != "HOLD"
                 and analysis.confidence >= s.deep_min_confidence
                 and analysis.position_size_suggestion >= s.deep_min_position_size)
    disagree = (s.deep_on_disagreement and screen is not None
                and screen.decision != analysis.decision)
    return important or disagree


def next_tier(tier: str, previous: Decision | None, current: Decision,
              s: EscalationSettings) -> str | None:
    """The tier after ``tier`` given the decisions so far, or None to stop."""
    if tier == "screening":
        return "analysis" if needs_analysis(current, s) else None
    if tier == "analysis":
        return "deep" if needs_deep(previous, current, s) else None
    return None


__all__ = ["TIERS", "needs_analysis", "needs_deep", "next_tier"]
