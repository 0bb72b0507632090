"""Indicators against TA-Lib on GOOG daily (1e-9), and no look-ahead (hypothesis)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ParameterError
from engine.market import generate_synthetic
from engine.market import indicators as ind

TOL = 1e-9


def _close(actual: pl.Series, expected: np.ndarray) -> None:
    a = actual.cast(pl.Float64).fill_null(np.nan).to_numpy()
    assert a.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(expected), err_msg="warm-up differs")
    ok = ~np.isnan(expected)
    assert ok.sum() > 0
    np.testing.assert_allclose(a[ok], expected[ok], rtol=0, atol=TOL)


@pytest.fixture(scope="module")
def arrays(goog):
    return {c: goog[c].to_numpy() for c in ("open", "high", "low", "close", "volume")}


@pytest.mark.parametrize("n", [5, 20, 50])
def test_sma_and_ema_match_talib(goog, arrays, n):
    out = goog.select(s=ind.sma("close", n), e=ind.ema("close", n))
    _close(out["s"], talib.SMA(arrays["close"], n))
    _close(out["e"], talib.EMA(arrays["close"], n))


@pytest.mark.parametrize("n", [2, 14, 30])
def test_rsi_matches_talib(goog, arrays, n):
    _close(goog.select(r=ind.rsi("close", n))["r"], talib.RSI(arrays["close"], n))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (8, 32, 5)])
def test_macd_matches_composed_talib_ema(goog, arrays, fast, slow, signal):
    m = ind.macd("close", fast, slow, signal)
    out = goog.select(line=m.line, sig=m.signal, hist=m.hist)
    line = talib.EMA(arrays["close"], fast) - talib.EMA(arrays["close"], slow)
    sig = np.full_like(line, np.nan)
    first = int(np.flatnonzero(~np.isnan(line))[0])
    sig[first:] = talib.EMA(line[first:], signal)
    _close(out["line"], line)
    _close(out["sig"], sig)
    _close(out["hist"], line - sig)


@pytest.mark.parametrize(("n", "k"), [(20, 2.0), (10, 1.5), (30, 3.0)])
def test_bollinger_matches_talib(goog, arrays, n, k):
    b = ind.bollinger("close", n, k)
    out = goog.select(mid=b.mid, up=b.upper, lo=b.lower, pb=b.pct_b)
    up, mid, lo = talib.BBANDS(arrays["close"], n, k, k, 0)
    _close(out["mid"], mid)
    _close(out["up"], up)
    _close(out["lo"], lo)
    _close(out["pb"], (arrays["close"] - lo) / (up - lo))


@pytest.mark.parametrize("n", [7, 14])
def test_atr_and_volume_sma_match_talib(goog, arrays, n):
    out = goog.select(a=ind.atr(n), v=ind.volume_sma(n))
    _close(out["a"], talib.ATR(arrays["high"], arrays["low"], arrays["close"], n))
    _close(out["v"], talib.SMA(arrays["volume"], n))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_period_is_a_parameter_error(bad):
    with pytest.raises(ParameterError, match="whole number"):
        ind.sma("close", bad)


def _all_indicators(df: pl.DataFrame) -> pl.DataFrame:
    m = ind.macd("close", 12, 26, 9)
    b = ind.bollinger("close", 20, 2.0)
    return df.select(
        ind.sma("close", 10).alias("sma"), ind.ema("close", 10).alias("ema"),
        ind.rsi("close", 14).alias("rsi"), m.line.alias("ml"), m.signal.alias("ms"),
        m.hist.alias("mh"), b.mid.alias("bm"), b.upper.alias("bu"), b.lower.alias("bl"),
        b.pct_b.alias("bp"), ind.atr(14).alias("atr"), ind.volume_sma(20).alias("vs"),
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), t=st.integers(0, 199),
       factor=st.floats(0.2, 5.0), shift=st.integers(1, 1000))
def test_indicators_never_look_ahead(seed, t, factor, shift):
    base = generate_synthetic(200, seed=seed)
    rng = np.random.default_rng(shift)
    after = pl.arange(0, 200, eager=True) > t
    noise = pl.Series(rng.uniform(0.5, 2.0, 200))
    changed = base.with_columns(
        [pl.when(after).then(pl.col(c) * factor * noise).otherwise(pl.col(c)).alias(c)
         for c in ("open", "high", "low", "close", "volume")]
    )
    a = _all_indicators(base).head(t + 1)
    b = _all_indicators(changed).head(t + 1)
    assert a.equals(b, null_equal=True)
