"""Look-ahead through training data: is a decision's as-of date inside the model's window?

A model trained on text up to its **training cutoff** (``training_cutoff`` of each model in
prompts.yaml) may remember what followed any earlier date — the price path, the news, the
outcome it is asked to predict. A decision is **inside the training window** when its
as-of day is on or before the cutoff of any model it used (the latest cutoff among them,
:meth:`~engine.llm.prompts.LLMConfig.cutoff_for`); its accuracy there is not evidence of
skill, so every report shows the two sides of the cutoff separately. The offline analyst
has no training data: its decisions have no cutoff (``in_training_window`` is None).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from engine.llm.prompts import LLMConfig

#: the accuracy report's names for the two sides of the cutoff, and the rest
SIDES = ("inside", "outside", "no_cutoff")


def _day(t: date | datetime) -> date:
    return t.date() if isinstance(t, datetime) else t


def in_window(as_of: date | datetime, cutoff: date | None) -> bool | None:
    """True when ``as_of`` is on or before ``cutoff``; None without a cutoff."""
    if cutoff is None:
        return None
    return _day(as_of) <= cutoff


def side(in_training_window: bool | None) -> str:
    """``inside`` / ``outside`` / ``no_cutoff`` for a decision's flag."""
    if in_training_window is None:
        return "no_cutoff"
    return "inside" if in_training_window else "outside"


def decision_window(as_of: date | datetime, model_ids: Iterable[str],
                    cfg: LLMConfig) -> dict[str, Any]:
    """The ``training_cutoff`` and ``in_training_window`` columns of one decision."""
    cutoff = cfg.cutoff_for(list(model_ids))
    return {"training_cutoff": cutoff, "in_training_window": in_window(as_of, cutoff)}


def exposure(dates: list[datetime], cutoff: date | None, *,
             per_date: int = 1) -> dict[str, Any]:
    """How many of a replay's decisions (``per_date`` on each as-of date: one per arm) lie
    inside the training window, and the warning to show before it starts (None when none
    do, or without a cutoff)."""
    inside = sum(1 for d in dates if in_window(d, cutoff)) if cutoff else 0
    total = len(dates) * per_date
    affected = inside * per_date
    warning = None
    if affected:
        warning = (f"{affected} of {total} decisions are as of dates on or before the "
                   f"model's training cutoff {cutoff.isoformat()}: the model may know what "
                   "happened next, so their accuracy is not evidence of skill — compare "
                   "them with the decisions after the cutoff, use a blind or paired replay "
                   "(--blind / --paired), and read the offline control arm")
    return {"training_cutoff": cutoff.isoformat() if cutoff else None,
            "in_training_window": affected,
            "after_cutoff": (total - affected) if cutoff else 0,
            "lookahead_warning": warning}


__all__ = ["SIDES", "decision_window", "exposure", "in_window", "side"]
