"""Number-input settings for an engine ``Param`` (bounds, step, decimals, sweep defaults).

Only presentation: the bounds and defaults come from the engine's Strategy.params; this
module picks round steps and a sensible starting grid for the sweep widgets.
"""

from __future__ import annotations

import math
from typing import Any


def nice(x: float) -> float:
    """A round number at or above ``x``: 1, 2, 2.5 or 5 times a power of ten."""
    if x <= 0:
        return 1.0
    e = math.floor(math.log10(x))
    for f in (1, 2, 2.5, 5, 10):
        if f * 10**e >= x:
            return round(f * 10**e, 10)
    return 10.0 ** (e + 1)


def widget_step(p: Any) -> float:
    """The +/- step of a float parameter's input: about 1/200 of its range, rounded."""
    return nice((p.high - p.low) / 200)


def decimals(step: float) -> int:
    """Decimals a number input needs to show multiples of ``step``."""
    d = max(0, -math.floor(math.log10(step)))
    return d + 1 if round(step * 10**d, 6) % 1 else d


def typed(p: Any, value: Any) -> int | float:
    """``value`` as the parameter's kind (JSON may hand back 30.0 for an int)."""
    return int(round(float(value))) if p.kind is int else float(value)


def default_grid(p: Any) -> tuple[float, float, float]:
    """A starting (from, to, step) for sweeping ``p``: about half to twice its default,
    inside its bounds, with roughly ten values."""
    if p.kind is int:
        lo = max(int(p.low), int(round(p.default * 0.5)))
        hi = min(int(p.high), int(round(p.default * 2)))
        return lo, max(hi, lo), max(1, int(round((hi - lo) / 10)))
    lo = max(float(p.low), p.default * 0.5)
    hi = min(float(p.high), p.default * 1.5)
    return round(lo, 6), round(hi, 6), nice((hi - lo) / 10)
