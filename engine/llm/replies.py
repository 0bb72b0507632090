"""Reading a model's reply: its text, the JSON in it, validation, the repair message.

:func:`parse_reply` redacts the text (no API key survives into an output), parses the JSON
and validates it with the configured limits (:func:`validate_payload`) — for a decision
also its levels against the as-of bar (:func:`level_context`). :func:`is_message` tells a
Messages API message from whatever else a 200 reply may parse to (an HTML page is a ``str``).

A reply to a **blind** snapshot (:mod:`engine.llm.blind`) has its levels on the rebased
scale: it is checked there first (so a repair message quotes only rebased prices), then
its levels are mapped back to the real scale and validated against the real as-of close.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.llm.blind import levels_to_raw
from engine.llm.context import MarketContext
from engine.llm.prompts import LLMConfig
from engine.llm.redaction import redact
from engine.llm.schema import validate_output


def reply_text(message: Any) -> str:
    """The text blocks of a reply joined (thinking blocks are skipped)."""
    return "".join(getattr(b, "text", "") for b in (message.content or [])
                   if getattr(b, "type", "") == "text").strip()


def level_context(ctx: MarketContext | None, cfg: LLMConfig) -> dict[str, Any]:
    """The validation context that checks a decision's levels against the as-of bar."""
    if ctx is None:
        return {}
    return {"price": ctx.price, "atr": ctx.values.get("atr14"), "levels": cfg.levels}


def validate_payload(kind: str, data: Any, cfg: LLMConfig,
                     ctx: MarketContext | None = None) -> BaseModel:
    """``validate_output`` with the configured limits (and the as-of bar's levels)."""
    return validate_output(kind, data, max_position_size=cfg.risk.max_position_size,
                           max_penalty=cfg.consensus.contrarian_max_penalty,
                           **level_context(ctx, cfg))


def parse_reply(text: str, kind: str, cfg: LLMConfig,
                ctx: MarketContext | None = None) -> BaseModel:
    """JSON text → validated output; raises ValueError with a short reason. ``ctx`` (the
    as-of snapshot) checks a decision's levels against its price. The text is redacted
    first (a reply echoing an API key keeps nothing of it)."""
    body = redact(text).strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the reply is not valid JSON ({exc.msg} at position {exc.pos})") from None
    try:
        out = validate_payload(kind, data, cfg, ctx)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}"
                            for e in exc.errors()[:4])
        raise ValueError(f"the JSON does not match the schema ({reasons})") from None
    if ctx is None or not ctx.blind or kind != "decision":
        return out
    try:  # the levels on the real scale, checked against the real as-of close
        return validate_payload(kind, levels_to_raw(data, ctx), cfg, ctx.named)
    except ValidationError:
        raise ValueError("the levels do not pass the checks once mapped back from the "
                         "rebased scale; keep them within the stated bands") from None


def with_repair(messages: list[dict[str, Any]], reply: str, error: str
                 ) -> list[dict[str, Any]]:
    """The conversation plus the rejected reply and the validation error to fix."""
    return [*messages, {"role": "assistant", "content": reply or "(empty)"},
            {"role": "user", "content": f"Your reply was rejected: {error}. Reply again with "
             "only the corrected JSON object that follows the schema and the rules."}]


def is_message(msg: Any) -> bool:
    """Whether the SDK's parsed 200 reply is a message (an HTML body parses to a ``str``,
    ``[]`` to a list, ``{}`` to a Message without content)."""
    return (not isinstance(msg, (str, bytes, list, dict)) and hasattr(msg, "usage")
            and isinstance(getattr(msg, "content", None), list))


__all__ = ["is_message", "level_context", "parse_reply", "reply_text", "validate_payload",
           "with_repair"]
