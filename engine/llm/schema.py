"""The JSON a model must return, as pydantic models, and the JSON schemas sent to the API.

Four output kinds (``output:`` of a prompt in prompts.yaml):

- ``decision`` — :class:`Decision`, the seed's trading decision: ``decision`` BUY/SELL/HOLD,
  ``confidence`` 0–100, ``entry_price``, ``stop_loss``, ``take_profit``,
  ``risk_reward_ratio``, ``position_size_suggestion`` (≤ the configured maximum),
  ``reasoning``, ``key_risks``, ``timeframe``. A BUY needs stop_loss < entry < take_profit,
  a SELL take_profit < entry < stop_loss; a HOLD may leave the prices null. Given the as-of
  ``price`` (and ``atr``) as validation context, a BUY's or SELL's levels must also be
  plausible (``levels`` of prompts.yaml): the entry within ``entry_band_pct`` of the price,
  stop and target at most ``max_stop_atr`` / ``max_target_atr`` ATRs from the entry
  (``max_stop_pct`` / ``max_target_pct`` percent when the ATR is unknown) — so a reply with
  an entry of 1e9 on a 256.84 close goes back for repair instead of becoming a trade.
- ``regime`` — :class:`RegimeView`; ``risk`` — :class:`RiskView`;
  ``critique`` — :class:`Critique` (the contrarian's objections and confidence penalty).

Validate with :func:`validate_output`, which passes the configured maximum position size
as validation context::

    >>> validate_output("decision", {"decision": "HOLD", "confidence": 50, ...},
    ...                 max_position_size=0.1)
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

DECISIONS = ("BUY", "SELL", "HOLD")
TIMEFRAMES = ("day_trade", "swing", "position")


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Decision(_Out):
    """A trading decision (the seed's JSON)."""

    decision: Literal["BUY", "SELL", "HOLD"]
    confidence: float = Field(ge=0, le=100)
    entry_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    risk_reward_ratio: float | None = None
    position_size_suggestion: float = Field(default=0.0, ge=0)
    reasoning: str = Field(min_length=1)
    key_risks: list[str] = Field(default_factory=list)
    timeframe: Literal["day_trade", "swing", "position"] = "swing"

    @field_validator("decision", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("position_size_suggestion")
    @classmethod
    def _max_size(cls, v: float, info: ValidationInfo) -> float:
        limit = (info.context or {}).get("max_position_size")
        if limit is not None and v > limit + 1e-12:
            raise ValueError(f"position_size_suggestion {v:g} is above the maximum {limit:g}")
        return v

    @model_validator(mode="after")
    def _levels(self, info: ValidationInfo) -> Decision:
        prices = (self.entry_price, self.stop_loss, self.take_profit)
        for p in prices:
            if p is not None and (not math.isfinite(p) or p <= 0):
                raise ValueError("entry_price, stop_loss and take_profit must be positive")
        if self.decision == "HOLD":
            return self
        if None in prices:
            raise ValueError(f"a {self.decision} needs entry_price, stop_loss and take_profit")
        entry, sl, tp = prices
        if self.decision == "BUY" and not sl < entry < tp:
            raise ValueError(f"a BUY needs stop_loss < entry_price < take_profit, got "
                             f"{sl:g} / {entry:g} / {tp:g}")
        if self.decision == "SELL" and not tp < entry < sl:
            raise ValueError(f"a SELL needs take_profit < entry_price < stop_loss, got "
                             f"{tp:g} / {entry:g} / {sl:g}")
        _plausible(entry, sl, tp, info.context or {})
        rr = abs(tp - entry) / abs(entry - sl)
        if self.risk_reward_ratio is None or abs(self.risk_reward_ratio - rr) > 0.05 * rr + 0.01:
            # The levels are authoritative; a stated ratio that disagrees is recomputed.
            self.risk_reward_ratio = round(rr, 4)
        return self

    @property
    def actionable_side(self) -> int:
        return {"BUY": 1, "SELL": -1}.get(self.decision, 0)


def _plausible(entry: float, sl: float, tp: float, ctx: dict[str, Any]) -> None:
    """Levels against the as-of price (context ``price``, ``atr``, ``levels``); see the
    module docstring. Without a price in the context nothing is checked."""
    price, lv = ctx.get("price"), ctx.get("levels")
    if price is None or lv is None or not (math.isfinite(price) and price > 0):
        return
    off = abs(entry / price - 1.0) * 100.0
    if off > lv.entry_band_pct + 1e-9:
        raise ValueError(f"entry_price {entry:g} is {off:.4g}% away from the as-of close "
                         f"{price:g}; give an entry within {lv.entry_band_pct:g}% of it")
    atr = ctx.get("atr")
    for name, level, k_atr, k_pct in (("stop_loss", sl, lv.max_stop_atr, lv.max_stop_pct),
                                      ("take_profit", tp, lv.max_target_atr,
                                       lv.max_target_pct)):
        dist = abs(level - entry)
        if atr is not None and math.isfinite(atr) and atr > 0:
            if dist > k_atr * atr + 1e-9:
                raise ValueError(f"{name} {level:g} is {dist / atr:.4g} ATR from the entry "
                                 f"{entry:g} (ATR {atr:g}); keep it within {k_atr:g} ATR")
        elif dist > k_pct / 100.0 * entry + 1e-9:
            raise ValueError(f"{name} {level:g} is {dist / entry * 100:.4g}% from the entry "
                             f"{entry:g}; keep it within {k_pct:g}%")


class RegimeView(_Out):
    regime: Literal["bull", "bear", "sideways", "high_volatility"]
    confidence: float = Field(ge=0, le=100)
    reasoning: str = Field(min_length=1)


class RiskView(_Out):
    risk_score: float = Field(ge=0, le=100)
    approved: bool
    concerns: list[str] = Field(default_factory=list)
    max_position_size: float = Field(ge=0, le=1)


class Critique(_Out):
    agrees: bool
    objections: list[str] = Field(default_factory=list)
    confidence_penalty: float = Field(ge=0, le=100)

    @field_validator("confidence_penalty")
    @classmethod
    def _max_penalty(cls, v: float, info: ValidationInfo) -> float:
        limit = (info.context or {}).get("max_penalty")
        return min(v, limit) if limit is not None else v


MODELS: dict[str, type[_Out]] = {
    "decision": Decision, "regime": RegimeView, "risk": RiskView, "critique": Critique,
}

_NUM_OR_NULL = {"type": ["number", "null"]}
_STR_LIST = {"type": "array", "items": {"type": "string"}}

#: JSON schemas for the API's structured output (all keys required, no extras).
JSON_SCHEMAS: dict[str, dict[str, Any]] = {
    "decision": {
        "type": "object",
        "properties": {
            "decision": {"type": "string", "enum": list(DECISIONS)},
            "confidence": {"type": "number"},
            "entry_price": _NUM_OR_NULL,
            "stop_loss": _NUM_OR_NULL,
            "take_profit": _NUM_OR_NULL,
            "risk_reward_ratio": _NUM_OR_NULL,
            "position_size_suggestion": {"type": "number"},
            "reasoning": {"type": "string"},
            "key_risks": _STR_LIST,
            "timeframe": {"type": "string", "enum": list(TIMEFRAMES)},
        },
        "required": ["decision", "confidence", "entry_price", "stop_loss", "take_profit",
                     "risk_reward_ratio", "position_size_suggestion", "reasoning",
                     "key_risks", "timeframe"],
        "additionalProperties": False,
    },
    "regime": {
        "type": "object",
        "properties": {
            "regime": {"type": "string",
                       "enum": ["bull", "bear", "sideways", "high_volatility"]},
            "confidence": {"type": "number"},
            "reasoning": {"type": "string"},
        },
        "required": ["regime", "confidence", "reasoning"],
        "additionalProperties": False,
    },
    "risk": {
        "type": "object",
        "properties": {
            "risk_score": {"type": "number"},
            "approved": {"type": "boolean"},
            "concerns": _STR_LIST,
            "max_position_size": {"type": "number"},
        },
        "required": ["risk_score", "approved", "concerns", "max_position_size"],
        "additionalProperties": False,
    },
    "critique": {
        "type": "object",
        "properties": {
            "agrees": {"type": "boolean"},
            "objections": _STR_LIST,
            "confidence_penalty": {"type": "number"},
        },
        "required": ["agrees", "objections", "confidence_penalty"],
        "additionalProperties": False,
    },
}


def validate_output(kind: str, data: Any, *, max_position_size: float | None = None,
                    max_penalty: float | None = None, price: float | None = None,
                    atr: float | None = None, levels: Any = None) -> _Out:
    """Validate ``data`` (a dict) as output ``kind``; raises pydantic's ValidationError.
    ``price``, ``atr`` and ``levels`` (prompts.yaml's ``levels``) check a decision's levels
    against the as-of bar."""
    ctx = {"max_position_size": max_position_size, "max_penalty": max_penalty,
           "price": price, "atr": atr, "levels": levels}
    return MODELS[kind].model_validate(data, context=ctx)


DECISION_KEYS = tuple(JSON_SCHEMAS["decision"]["required"])


def decision_dict(d: Decision) -> dict[str, Any]:
    """The seed's decision keys, in the seed's order."""
    data = d.model_dump()
    return {k: data[k] for k in DECISION_KEYS}


__all__ = ["DECISIONS", "DECISION_KEYS", "Critique", "Decision", "JSON_SCHEMAS", "MODELS",
           "RegimeView", "RiskView", "TIMEFRAMES", "decision_dict", "validate_output"]
