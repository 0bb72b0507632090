"""What a reply's usage says and what it costs: token counts, prices, bounds, anomalies.

- :class:`Usage` and :func:`read_usage` — an API ``usage`` read without trusting it (a
  count that is not a whole number, negative, or missing is a *problem*, never an error);
- :func:`price` — ``(input·p_in + output·p_out + cache_write·p_cw + cache_read·p_cr) / 1e6``,
  times ``batch_discount`` for a batch;
- :func:`input_token_bound` / :func:`max_cost` — the reservation, an upper bound on what a
  request can cost; :func:`estimate_tokens` — a typical count (replay's expected cost);
- :func:`usage_anomaly` — why a reply's usage cannot be true of its reservation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.llm.prompts import LLMConfig, ModelSpec, load_config

#: Stored token counts are clamped to this (an INTEGER column on PostgreSQL is 32-bit); the
#: anomaly text keeps what the reply said.
_MAX_STORED_TOKENS = 2**31 - 1


@dataclass(frozen=True)
class Usage:
    """Token counts of one reply (the API's ``usage``)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    @classmethod
    def from_api(cls, usage: Any) -> Usage:
        """The counts of an API ``usage`` (unreadable values count 0; see :func:`read_usage`)."""
        return read_usage(usage)[0]

    @property
    def input_total(self) -> int:
        """Every input token, cached or not."""
        return self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens,
                     self.output_tokens + other.output_tokens,
                     self.cache_creation_tokens + other.cache_creation_tokens,
                     self.cache_read_tokens + other.cache_read_tokens)


_API_FIELDS = (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
               ("cache_creation_tokens", "cache_creation_input_tokens"),
               ("cache_read_tokens", "cache_read_input_tokens"))


def read_usage(usage: Any) -> tuple[Usage, list[str]]:
    """An API ``usage`` as :class:`Usage` plus the reasons it cannot be true: a count that
    is not a whole number (a string, NaN, 1.5), negative, or a reply without usage.
    Unreadable counts become 0; negative ones are kept (the row records what was said)."""
    if usage is None:
        return Usage(), ["the reply reports no usage"]
    problems: list[str] = []
    vals: dict[str, int] = {}
    for name, api_name in _API_FIELDS:
        raw = usage.get(api_name) if isinstance(usage, dict) else getattr(usage, api_name, None)
        if raw is None:
            vals[name] = 0
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or (
                isinstance(raw, float) and not (math.isfinite(raw) and raw.is_integer())):
            problems.append(f"{api_name} is {str(raw)[:40]!r}, not a whole number")
            vals[name] = 0
            continue
        n = int(raw)
        if n < 0:
            problems.append(f"{api_name} is negative ({n})")
        vals[name] = max(-_MAX_STORED_TOKENS, min(n, _MAX_STORED_TOKENS))
    return Usage(**vals), problems


def usage_anomaly(usage: Usage, problems: list[str], *, cost_usd: float, reserved_usd: float,
                  max_tokens: int | None = None, input_bound: int | None = None) -> str:
    """Why ``usage`` cannot be the truth about a call reserved at ``reserved_usd``
    ("" when it can): ``problems`` from :func:`read_usage`, more output than ``max_tokens``,
    more input than the reservation's bound, or a price above the reservation."""
    why = list(problems)
    if max_tokens is not None and usage.output_tokens > max_tokens:
        why.append(f"output_tokens {usage.output_tokens} is above max_tokens {max_tokens}")
    if input_bound is not None and usage.input_total > input_bound:
        why.append(f"{usage.input_total} input tokens is above the request's bound "
                   f"{input_bound}")
    if cost_usd > reserved_usd * (1 + 1e-9) + 1e-12:
        why.append(f"its price ${cost_usd:.6f} is above the reservation ${reserved_usd:.6f}")
    return "; ".join(why)


def price(spec: ModelSpec, usage: Usage, *, batch: bool = False,
          batch_discount: float = 0.5) -> float:
    """The cost in USD of ``usage`` on model ``spec``."""
    cost = (usage.input_tokens * spec.input_per_mtok
            + usage.output_tokens * spec.output_per_mtok
            + usage.cache_creation_tokens * spec.cache_write_per_mtok
            + usage.cache_read_tokens * spec.cache_read_per_mtok) / 1e6
    return cost * batch_discount if batch else cost


def estimate_tokens(text: str, cfg: LLMConfig | None = None) -> int:
    """A conservative token estimate for ``text`` (characters / chars_per_token, rounded up)."""
    cfg = cfg or load_config()
    return math.ceil(len(text) / cfg.cost_management.chars_per_token_estimate)


def input_token_bound(text: str, cfg: LLMConfig | None = None) -> int:
    """An upper bound on the input tokens of a request whose JSON is ``text``: its UTF-8
    bytes (a token of Claude's byte-level tokenizer encodes at least one byte, and the JSON
    carries framing the API strips) plus ``cost_management.reservation_overhead_tokens``
    for what the API adds (the structured-output instructions)."""
    cfg = cfg or load_config()
    return len(text.encode("utf-8")) + cfg.cost_management.reservation_overhead_tokens


def max_cost(spec: ModelSpec, input_tokens: int, max_tokens: int, *, batch: bool = False,
             batch_discount: float = 0.5) -> float:
    """The most a call can cost: every input token at the dearer of the input and cache-write
    prices, plus ``max_tokens`` of output."""
    per_in = max(spec.input_per_mtok, spec.cache_write_per_mtok)
    cost = (input_tokens * per_in + max_tokens * spec.output_per_mtok) / 1e6
    return cost * batch_discount if batch else cost


__all__ = ["Usage", "estimate_tokens", "input_token_bound", "max_cost", "price", "read_usage",
           "usage_anomaly"]
