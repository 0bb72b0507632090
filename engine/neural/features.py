"""The 10 features per bar a neural model sees — every one from bars up to ``t`` only.

=====  =================  ===========================================================
 #     name               definition at bar ``t``
=====  =================  ===========================================================
 0     ``ret_1``          log(close_t / close_{t-1}) — one-bar log return
 1     ``ret_5``          log(close_t / close_{t-5}) — five-bar log return
 2     ``volatility_20``  standard deviation of the last 20 one-bar log returns
 3     ``rsi_14``         Wilder's RSI(14) / 100 (0…1)
 4     ``macd_hist``      MACD(12, 26, 9) histogram / close_t (scale-free)
 5     ``bb_pct_b``       Bollinger(20, 2) %b: (close − lower) / (upper − lower)
 6     ``close_sma20``    close_t / SMA(20) − 1
 7     ``sma10_sma50``    SMA(10) / SMA(50) − 1
 8     ``volume_change``  volume_t / SMA(volume, 20) − 1
 9     ``atr_pct``        ATR(14) / close_t (Wilder's average true range, relative)
=====  =================  ===========================================================

The indicators are the engine's own polars expressions (:mod:`engine.market.indicators`,
checked against TA-Lib), computed in one ``select``. The first :data:`WARMUP` bars are not
fully defined (SMA(50) needs 50 bars) and are never used. A value that is undefined later
(a flat Bollinger band, a zero volume average) is set to 0 (``bb_pct_b`` to 0.5, the
middle of the band). Because every indicator is causal, the features of a prefix of the data
equal the first rows of the features of the whole data (a test checks it).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.errors import DataError
from engine.market import indicators as ind

FEATURE_NAMES: tuple[str, ...] = (
    "ret_1", "ret_5", "volatility_20", "rsi_14", "macd_hist", "bb_pct_b",
    "close_sma20", "sma10_sma50", "volume_change", "atr_pct",
)
FEATURE_DOCS: dict[str, str] = {
    "ret_1": "one-bar log return",
    "ret_5": "five-bar log return",
    "volatility_20": "std of the last 20 one-bar log returns",
    "rsi_14": "RSI(14) / 100",
    "macd_hist": "MACD(12, 26, 9) histogram / close",
    "bb_pct_b": "Bollinger(20, 2) %b",
    "close_sma20": "close / SMA(20) − 1",
    "sma10_sma50": "SMA(10) / SMA(50) − 1",
    "volume_change": "volume / SMA(volume, 20) − 1",
    "atr_pct": "ATR(14) / close",
}
#: Bars before the first fully defined feature row (SMA(50) is defined from bar 49).
WARMUP = 49
_FILL = {"bb_pct_b": 0.5}


def feature_exprs() -> list[pl.Expr]:
    """The 10 features as polars expressions over a canonical OHLCV frame."""
    close = pl.col("close")
    logret = close.log().diff()
    macd = ind.macd(close, 12, 26, 9)
    bb = ind.bollinger(close, 20, 2.0)
    return [
        logret.alias("ret_1"),
        (close / close.shift(5)).log().alias("ret_5"),
        logret.rolling_std(20, ddof=0).alias("volatility_20"),
        (ind.rsi(close, 14) / 100.0).alias("rsi_14"),
        (macd.hist / close).alias("macd_hist"),
        bb.pct_b.alias("bb_pct_b"),
        (close / ind.sma(close, 20) - 1.0).alias("close_sma20"),
        (ind.sma(close, 10) / ind.sma(close, 50) - 1.0).alias("sma10_sma50"),
        (pl.col("volume") / ind.sma("volume", 20) - 1.0).alias("volume_change"),
        (ind.atr(14) / close).alias("atr_pct"),
    ]


def compute_features(data: pl.DataFrame) -> np.ndarray:
    """``(n_bars, 10)`` float64 features; rows before :data:`WARMUP` are NaN.

    >>> from engine.market import generate_synthetic
    >>> compute_features(generate_synthetic(120, seed=1)).shape
    (120, 10)
    """
    missing = {"close", "high", "low", "volume"} - set(data.columns)
    if missing:
        raise DataError(f"features need OHLCV columns; missing {sorted(missing)} — load the "
                        "data with engine.market.load_dataset")
    x = data.select(feature_exprs()).select(
        pl.all().cast(pl.Float64).fill_nan(None)
    ).to_numpy().astype(np.float64, copy=True)
    if x.shape[0] == 0:
        return np.empty((0, len(FEATURE_NAMES)))
    for j, name in enumerate(FEATURE_NAMES):
        col = x[:, j]
        bad = ~np.isfinite(col)
        col[bad] = _FILL.get(name, 0.0)
    x[:WARMUP] = np.nan
    return x
