"""Running prompts on one provider (the Claude client or the offline analyst), and the
small helpers the analyse / screen / replay entry points share.

``provider`` is ``"offline"``, ``"anthropic"`` or ``"auto"`` (anthropic when an API key is
available, else offline). A blind snapshot (:mod:`engine.llm.blind`) is run as it is: the
Claude client renders it without names and maps the reply's levels back; the offline
analyst decides on the rebased numbers and its levels are mapped back the same way.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from engine.errors import ParameterError
from engine.llm import costs, offline
from engine.llm.blind import levels_to_raw, shown_levels
from engine.llm.client import CallResult, ClaudeClient, resolve_api_key
from engine.llm.context import MarketContext
from engine.llm.prompts import LLMConfig, load_config
from engine.llm.schema import Decision

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
        """``prompt`` on ``ctx`` (named or blind); outputs are on the real price scale."""
        if self.provider == "offline":
            res = offline.run(prompt, ctx, proposal=proposal, cfg=self.cfg)
            if ctx.blind and isinstance(res.output, Decision):
                res.output = Decision.model_validate(
                    levels_to_raw(res.output.model_dump(), ctx))
            costs.record_offline(prompt=prompt, prompt_version=res.prompt_version,
                                 symbol=ctx.symbol)
            return res
        text = "" if proposal is None else proposal_text(shown_levels(proposal, ctx))
        return self.client.call(prompt, ctx, model_key=model_key, proposal=text)


def proposal_text(d: Decision) -> str:
    """A decision as one line for the contrarian's ``{proposal}``."""
    if d.decision == "HOLD":
        return f"HOLD (confidence {d.confidence:.0f})"
    return (f"{d.decision} at {d.entry_price:.6g}, stop {d.stop_loss:.6g}, target "
            f"{d.take_profit:.6g}, size {d.position_size_suggestion:g}, confidence "
            f"{d.confidence:.0f}")


def load_frame(symbol: str, df: pl.DataFrame | None) -> pl.DataFrame:
    """``df`` when given, else the stored dataset of ``symbol``."""
    if df is not None:
        return df
    from engine.market import load_dataset

    return load_dataset(symbol)


def summary(results: list[CallResult]) -> dict[str, Any]:
    """Cost, cache and token totals of a list of calls (keys of the analyse document)."""
    return {
        "cost_usd": round(sum(r.cost_usd for r in results), 8),
        "cached": bool(results) and all(r.cached for r in results if r.ok),
        "cache_hits": sum(1 for r in results if r.cached),
        "saved_usd": round(sum(r.saved_usd for r in results), 8),
        "models": sorted({r.model_id for r in results if r.ok}),
        "input_tokens": sum(r.usage.input_tokens for r in results),
        "output_tokens": sum(r.usage.output_tokens for r in results),
    }


__all__ = ["PROVIDERS", "Runner", "load_frame", "proposal_text", "resolve_provider",
           "summary"]
