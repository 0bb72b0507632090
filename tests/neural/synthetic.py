"""Synthetic bars with a planted, learnable pattern (for the neural tests)."""

from __future__ import annotations

import numpy as np
import polars as pl


def planted_frame(n_bars: int = 1200, *, seed: int = 0, drift: float = 0.01,
                  noise: float = 0.001) -> pl.DataFrame:
    """Blocks of 15–30 bars, each trending up (+drift/bar), flat or down (−drift/bar).

    With horizon 3 and threshold 0.01, the label of a bar is the current block's direction
    except near block ends — learnable from the last few returns (well above 1/3 chance).
    """
    rng = np.random.default_rng(seed)
    rets = np.empty(n_bars)
    i = 0
    while i < n_bars:
        length = int(rng.integers(15, 31))
        kind = int(rng.integers(0, 3)) - 1  # -1 down, 0 flat, +1 up
        rets[i:i + length] = kind * drift
        i += length
    rets += rng.normal(0.0, noise, n_bars)
    close = 100.0 * np.exp(np.cumsum(rets))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + 0.002)
    low = np.minimum(open_, close) * (1 - 0.002)
    ts = np.datetime64("2015-01-01T00:00:00", "us") + np.arange(n_bars) * np.timedelta64(
        1, "D").astype("timedelta64[us]")
    vol = rng.uniform(1e5, 2e5, n_bars)
    return pl.DataFrame({"timestamp": ts, "open": open_, "high": high, "low": low,
                         "close": close, "volume": vol})
