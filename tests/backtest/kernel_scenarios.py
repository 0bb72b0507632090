"""Helpers of the kernel's execution-rule tests (``test_kernel_*.py``): tiny OHLC frames
and a direct call of :func:`engine.backtest.kernel.simulate_nb` with an ``int8`` signal
array (``+1`` wants long, ``-1`` wants out / short, ``0`` nothing; a signal at the close of
bar ``t`` fills at the open of ``t+1``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from engine.backtest import kernel as K
from engine.backtest.enums import (
    EXIT_REASONS,
    KERNEL_METRICS,
    N_KERNEL_METRICS,
    N_STATS,
    new_trades,
)


def bars(o, c, h=None, lo=None):
    """OHLC arrays; high/low default to 0.5 outside max/min(open, close) (no stop hits)."""
    o = np.asarray(o, float)
    c = np.asarray(c, float)
    h = np.maximum(o, c) + 0.5 if h is None else np.asarray(h, float)
    lo = np.minimum(o, c) - 0.5 if lo is None else np.asarray(lo, float)
    assert (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()
    return o, h, lo, c


def sim(o, c, sig, h=None, lo=None, *, short=False, sl=0.0, tp=0.0, size=0.0, cash=1000.0,
        comm=0.0, whole=True):
    """Run the kernel; return (trades as dicts, equity, position, stats)."""
    o, h, lo, c = bars(o, c, h, lo)
    sig = np.asarray(sig, np.int8)
    assert sig.shape == c.shape
    eq = np.empty_like(c)
    pos = np.empty_like(c)
    stats = np.zeros(N_STATS)
    rec = new_trades(np.count_nonzero(sig) + 1)
    n_tr = K.simulate_nb(o, h, lo, c, sig, short, float(sl), float(tp), float(size), float(cash),
                         float(comm), whole, eq, pos, stats, True, rec)
    trades = [
        {
            "entry_bar": int(r["entry_bar"]),
            "exit_bar": int(r["exit_bar"]),
            "entry_price": float(r["entry_price"]),
            "exit_price": float(r["exit_price"]),
            "size": float(r["size"]),
            "pnl": float(r["pnl"]),
            "reason": EXIT_REASONS[int(r["reason"])],
            "commission": float(r["commission"]),
        }
        for r in rec[:n_tr]
    ]
    return trades, eq, pos, stats


def kernel_metrics(eq, pos, stats, cash, c, ppy=252.0):
    out = np.empty(N_KERNEL_METRICS)
    K.metrics_nb(eq, pos, stats, float(cash), np.asarray(c, float), float(ppy), out)
    return dict(zip(KERNEL_METRICS, out.tolist(), strict=True))


def frame(o, c, h=None, lo=None, volume=None):
    o, h, lo, c = bars(o, c, h, lo)
    n = len(c)
    t0 = datetime(2024, 1, 1)
    return pl.DataFrame({
        "timestamp": [t0 + timedelta(days=i) for i in range(n)],
        "open": o, "high": h, "low": lo, "close": c,
        "volume": np.full(n, 1000.0) if volume is None else np.asarray(volume, float),
    }).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))


def approx(x):
    return pytest.approx(x, rel=0, abs=1e-9)
