"""Numbers for the screen: one place, explicit units, "n/a" for what is missing.

No streamlit here, so the figure builders (hover texts) use it as well as the pages.
"""

from __future__ import annotations

import math
from typing import Any


def missing(value: Any) -> bool:
    """None, NaN or ±inf: shown as "n/a", never as a made-up number."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def fmt_pct(value: Any, *, fraction: bool, digits: int = 2) -> str:
    """A percentage, "n/a" when missing.

    The engine uses two conventions and the caller must say which one ``value`` is in:
    ``fraction=True`` for a share of 1 (accuracy 0.553 → "55.3 %" with ``digits=1``),
    ``fraction=False`` for a value already in percent (``total_return_pct`` 12.346 →
    "12.35 %"). Thousands are separated ("1,234.50 %").
    """
    if missing(value):
        return "n/a"
    return f"{100 * value if fraction else value:,.{digits}f} %"


def fmt_num(value: Any, digits: int = 4) -> str:
    """A plain number with ``digits`` decimals (accuracy 0.5 → "0.5000"), "n/a" when missing."""
    return "n/a" if missing(value) else f"{value:.{digits}f}"
