"""The circuit breaker for poor performance: when a sleeve is paused automatically.

A sleeve is paused (no new entries; exits, stops and targets still run) when, among the
trades it closed since it was last resumed, the last ``breaker_trades`` (20) have a hit rate
(share with pnl > 0) below ``breaker_hit_rate`` (35 %), or its equity is more than
``breaker_drawdown`` (20 %) below its peak since it was last resumed. It stays paused until
resumed by hand (``paper resume``).
"""

from __future__ import annotations

from typing import Any


def breaker_reason(pnls: list[float], equity: float, peak: float, book: Any
                   ) -> dict[str, Any] | None:
    """Why the breaker trips now (``{"rule", "text", …numbers}``), or ``None``."""
    n = int(book.breaker_trades)
    if len(pnls) >= n > 0:
        last = pnls[-n:]
        hit = sum(1 for p in last if p > 0) / n
        if hit < book.breaker_hit_rate:
            return {"rule": "hit_rate", "hit_rate": hit, "limit": book.breaker_hit_rate,
                    "trades": n, "text": f"hit rate {hit:.0%} over the last {n} closed trades "
                    f"is below {book.breaker_hit_rate:.0%}"}
    if peak > 0:
        dd = equity / peak - 1.0
        if dd < -book.breaker_drawdown:
            return {"rule": "drawdown", "drawdown": dd, "limit": -book.breaker_drawdown,
                    "text": f"drawdown {dd:.1%} is beyond -{book.breaker_drawdown:.0%}"}
    return None
