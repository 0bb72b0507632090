"""Which metrics of a backtest are defined: a ratio over no trades, or over a flat equity
curve, has no value, and the compiled kernel reports such a metric as 0.0.

The kernel's 0.0 stays as it is (sweeps and evolution rank on the kernel's arrays); what
is shown to a person uses :func:`defined_metrics`, where an undefined metric is ``None``
("n/a" on the page), never a made-up 0 (issue 10, defect 9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Metrics that are statistics of the closed trades: undefined without a trade.
PER_TRADE = ("win_rate_pct", "profit_factor", "avg_trade_pct", "best_trade_pct",
             "worst_trade_pct", "avg_trade_bars")
#: Metrics divided by the volatility of returns: undefined on a flat equity curve.
PER_VOLATILITY = ("sharpe", "sortino")


def undefined_metrics(metrics: Mapping[str, Any]) -> frozenset[str]:
    """The names in ``metrics`` that have no value for this run."""
    out: set[str] = set()
    if metrics.get("n_trades") == 0:
        out.update(PER_TRADE)
    if metrics.get("volatility_ann_pct") == 0:
        out.update(PER_VOLATILITY)
    if metrics.get("max_drawdown_pct") == 0:
        out.add("calmar")  # cagr / |max drawdown| with no drawdown
    return frozenset(k for k in out if k in metrics)


def defined_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``metrics`` with every undefined metric set to ``None``."""
    bad = undefined_metrics(metrics)
    return {k: (None if k in bad else v) for k, v in metrics.items()}
