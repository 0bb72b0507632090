"""Blind analysis: the snapshot without the symbol, the dates or the real price level.

A model that recognises the asset and the date can answer from memory of what followed
(look-ahead through its training data). A blind snapshot leaves it only the shape of the
series: :func:`blind_context` drops the symbol and every calendar date from the prompt and
rebases every ``price`` field (close, moving averages, Bollinger bands, ATR) so that the
first bar the snapshot uses closed at 100:

    rebased = raw · scale,    scale = 100 / base_close

Returns, ratios and oscillators (``pct``, ``ratio``, ``osc`` fields) are scale-free and
stay as they are; the regime label and the bar interval are kept.

The levels the model answers with (entry, stop-loss, take-profit) are on the rebased scale;
:func:`levels_to_raw` maps them back — ``raw = rebased · base_close / 100`` — before the
reply is validated against the real as-of close, recorded and risk-checked. A proposal the
contrarian is shown goes the other way (:func:`shown_levels`), so no real price is sent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.errors import ParameterError
from engine.llm.context import KINDS, MarketContext

#: the decision fields that are prices (mapped between the scales)
LEVEL_FIELDS = ("entry_price", "stop_loss", "take_profit")


def blind_context(ctx: MarketContext) -> MarketContext:
    """The blind view of ``ctx`` (see the module docstring). The view keeps the real symbol
    and as-of time for recording; they never reach its text or a rendered template."""
    if ctx.blind:
        return ctx
    base = ctx.base_close
    if base is None or not base > 0:
        raise ParameterError(f"{ctx.symbol}: a blind analysis needs a positive first close "
                             f"to rebase on (got {base!r}); check the dataset's prices")
    scale = 100.0 / base
    values = {k: (v * scale if v is not None and KINDS.get(k) == "price" else v)
              for k, v in ctx.values.items()}
    return replace(ctx, price=ctx.price * scale, values=values, blind=True, scale=scale,
                   source=ctx)


def to_raw(level: float | None, ctx: MarketContext) -> float | None:
    """A price on ``ctx``'s rebased scale back on the real one (``rebased · base / 100``)."""
    if level is None or not ctx.blind:
        return level
    return level * ctx.named.base_close / 100.0


def to_shown(level: float | None, ctx: MarketContext) -> float | None:
    """A real price on ``ctx``'s scale (rebased when blind)."""
    if level is None or not ctx.blind:
        return level
    return level * ctx.scale


def levels_to_raw(data: Any, ctx: MarketContext) -> Any:
    """A decision payload (a dict from the model's JSON) with its levels mapped back to the
    real price scale; anything else is returned as it is."""
    if not ctx.blind or not isinstance(data, dict):
        return data
    out = dict(data)
    for k in LEVEL_FIELDS:
        v = out.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = to_raw(float(v), ctx)
    return out


def shown_levels(decision: Any, ctx: MarketContext) -> Any:
    """A (raw-scale) pydantic decision as ``ctx`` shows prices: rebased when blind."""
    if not ctx.blind:
        return decision
    return decision.model_copy(update={k: to_shown(getattr(decision, k), ctx)
                                       for k in LEVEL_FIELDS})


__all__ = ["LEVEL_FIELDS", "blind_context", "levels_to_raw", "shown_levels", "to_raw",
           "to_shown"]
