"""Performance metrics: names, meaning, and the conversion from the kernel's array.

The numbers themselves are computed in the compiled kernel (:func:`metrics_nb`) so that a
single backtest, a sweep and an evolution evaluate *identically*. Per-bar returns are simple
returns of the equity curve marked to market at every close; annualisation uses
``periods_per_year`` inferred from the timestamps (bars per year actually present), so daily
stock data gives about 252, daily crypto 365, hourly 24/7 data 8,766.

================================  ==============================================================
metric                            meaning
================================  ==============================================================
total_return_pct                  (final equity / initial cash - 1) · 100
cagr_pct                          compound annual growth rate, %, over the bars' time span
volatility_ann_pct                standard deviation of per-bar returns · sqrt(periods/yr) · 100
sharpe                            mean / std of per-bar returns · sqrt(periods/yr) (risk-free 0)
sortino                           mean / downside deviation · sqrt(periods/yr)
max_drawdown_pct                  worst peak-to-trough fall of equity, % (≤ 0)
max_drawdown_duration_bars        longest run of bars spent below a previous equity peak
calmar                            cagr_pct / |max_drawdown_pct|
win_rate_pct                      share of trades with pnl > 0, %
profit_factor                     gross profit / gross loss (null when there is no loss)
avg_trade_pct                     mean trade return (pnl / entry notional), %
best_trade_pct / worst_trade_pct  best and worst trade return, %
avg_trade_bars                    mean bars from entry to exit
exposure_pct                      share of bars ending with an open position, %
n_trades                          trades, including a position still open at the end
final_equity                      equity at the last close (open position marked to market)
buy_hold_return_pct               (last close / first close - 1) · 100
periods_per_year                  the annualisation factor used
================================  ==============================================================
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.backtest.enums import KERNEL_METRICS  # the order of the kernel's metric array

#: Every metric key a backtest reports, in display order.
METRIC_NAMES: tuple[str, ...] = (*KERNEL_METRICS, "calmar", "periods_per_year")

_INT_METRICS = {"n_trades", "max_drawdown_duration_bars"}


def periods_per_year(timestamps: pl.Series) -> float:
    """Bars per year actually present in the data (252-ish for daily stocks).

    Falls back to 252 when the span is too short to tell (fewer than two bars).
    """
    n = timestamps.len()
    if n < 2:
        return 252.0
    span = (timestamps[-1] - timestamps[0]).total_seconds()
    if span <= 0:
        return 252.0
    return (n - 1) / (span / (365.25 * 86400.0))


def metrics_dicts(rows: np.ndarray, ppy: float) -> list[dict[str, float | int]]:
    """:func:`metrics_dict` of every row of a batch's metric matrix, converted in bulk."""
    ints = [j for j, name in enumerate(KERNEL_METRICS) if name in _INT_METRICS]
    j_mdd, j_cagr = KERNEL_METRICS.index("max_drawdown_pct"), KERNEL_METRICS.index("cagr_pct")
    names, ppy = tuple(KERNEL_METRICS), float(ppy)
    out = []
    for values in rows.tolist():  # Python floats
        for j in ints:
            values[j] = int(values[j])
        d = dict(zip(names, values, strict=True))
        mdd = values[j_mdd]
        d["calmar"] = float(values[j_cagr] / abs(mdd)) if mdd < 0 else 0.0
        d["periods_per_year"] = ppy
        out.append(d)
    return out


def metrics_dict(row: np.ndarray, ppy: float) -> dict[str, float | int]:
    """Name the kernel's metric array and add the derived ones."""
    out: dict[str, float | int] = {}
    for name, value in zip(KERNEL_METRICS, row.tolist(), strict=True):
        out[name] = int(value) if name in _INT_METRICS else float(value)
    mdd = out["max_drawdown_pct"]
    out["calmar"] = float(out["cagr_pct"] / abs(mdd)) if mdd < 0 else 0.0
    out["periods_per_year"] = float(ppy)
    return out
