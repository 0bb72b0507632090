"""Seeded data and hypothesis generators shared by the backtest property tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import assume
from hypothesis import strategies as st

from engine.backtest import BacktestSettings, get_strategy
from engine.errors import ParameterError


# ----------------------------------------------------------------------------------------
# data and parameter generators
# ----------------------------------------------------------------------------------------
def gbm_arrays(seed: int, n: int, vol: float = 0.02) -> dict[str, np.ndarray]:
    """A seeded random walk with consistent OHLC and volume (regime-ish: vol varies)."""
    rng = np.random.default_rng(seed)
    sig = vol * np.exp(rng.normal(0, 0.5, n))
    close = 100 * np.exp(np.cumsum(rng.normal(0.0002, sig)))
    open_ = np.empty(n)
    open_[0] = 100.0
    open_[1:] = close[:-1] * np.exp(rng.normal(0, 0.3 * sig[1:]))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.6 * sig)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.6 * sig)))
    volume = np.round(1e6 * rng.lognormal(0, 0.4, n))
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def to_frame(a: dict[str, np.ndarray]) -> pl.DataFrame:
    n = len(a["close"])
    t0 = datetime(2020, 1, 1)
    return pl.DataFrame(
        {"timestamp": [t0 + timedelta(days=i) for i in range(n)], **a}
    ).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))


# caps keep warm-ups well inside a few hundred bars; the genome uses its full gene ranges
CAPS = {
    ("sma_cross", "fast"): 30, ("sma_cross", "slow"): 80,
    ("rsi", "period"): 40,
    ("macd", "fast"): 20, ("macd", "slow"): 50, ("macd", "signal"): 20,
    ("bollinger", "period"): 60, ("bollinger", "std"): 4.0,
}
ORDERED = {
    "sma_cross": [("fast", "slow")],
    "rsi": [("oversold", "overbought")],
    "macd": [("fast", "slow")],
    "genome": [("sma_short", "sma_long"), ("macd_fast", "macd_slow"),
               ("rsi_oversold", "rsi_overbought")],
}


@st.composite
def param_sets(draw, name: str) -> dict:
    strat = get_strategy(name)
    p = {}
    for prm in strat.params:
        hi = CAPS.get((name, prm.name), prm.high)
        if prm.kind is int:
            p[prm.name] = draw(st.integers(int(prm.low), int(hi)))
        else:
            p[prm.name] = draw(st.floats(prm.low, hi, allow_nan=False, allow_infinity=False))
    for a, b in ORDERED.get(name, ()):
        if p[a] > p[b]:
            p[a], p[b] = p[b], p[a]
    try:
        return strat.resolve(p)
    except ParameterError:
        assume(False)


def backtest_settings(name: str):
    opt = st.none() | st.sampled_from([0.01, 0.03, 0.05, 0.1, 0.2])
    return st.builds(
        BacktestSettings,
        cash=st.sampled_from([1_000.0, 10_000.0, 123_456.0]),
        commission=st.sampled_from([0.0, 0.0005, 0.002, 0.01]),
        stop_loss=opt,
        take_profit=opt,
        size=st.none() | st.sampled_from([0.1, 0.25, 0.5, 1.0]),
        allow_short=st.booleans(),
        fractional=st.booleans(),
    )
