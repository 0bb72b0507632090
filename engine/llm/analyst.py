"""The analyst: analyse one symbol, screen many, replay over history.

This module is the entry point the CLI, the pages and the paper desk import; each concept
lives in its own module and is re-exported here:

- :func:`analyze` (:mod:`engine.llm.analysis`) — one decision for ``symbol`` as of a date
  (default: the latest bar), single (``master_analyst`` on its preferred model) or
  ``consensus`` (the configured members, a contrarian pass, the market-regime and
  risk-assessment prompts), named or ``blind``, then the risk check (:mod:`engine.risk`)
  and a row in ``ai_decisions``. Returns the JSON document of
  ``python -m engine analyze --json``.
- :func:`screen` (:mod:`engine.llm.screening`) — the screening tier for every symbol
  (optionally as one Message Batch at half price), escalation to the analysis and deep
  tiers for the promising ones; a ranked list.
- :func:`estimate_replay` / :func:`replay` (:mod:`engine.llm.replays`) — one decision every
  N bars over a past period, each using only the data up to its as-of bar; the cost and
  the look-ahead exposure are estimated first and the replay refused when the cost estimate
  passes ``max_cost_usd``; blind by default on Claude, ``paired`` named + blind, the offline
  control arm; outcomes are scored at the end.
- :class:`Runner` / :func:`resolve_provider` (:mod:`engine.llm.runner`) — ``provider`` is
  ``"offline"``, ``"anthropic"`` or ``"auto"`` (anthropic when an API key is available,
  else offline). Long calls take ``on_progress(done, total, message)``.
"""

from __future__ import annotations

from engine.llm.analysis import analyze
from engine.llm.replays import estimate_replay, replay, replay_arms, replay_dates
from engine.llm.runner import PROVIDERS, Runner, resolve_provider
from engine.llm.screening import screen

__all__ = ["PROVIDERS", "Runner", "analyze", "estimate_replay", "replay", "replay_arms",
           "replay_dates", "resolve_provider", "screen"]
