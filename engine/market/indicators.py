"""Technical indicators as polars expressions.

Every function takes an expression (or a column name) and returns expressions, so callers
compute many indicators in one ``select`` that polars runs in parallel. Conventions follow
TA-Lib, against which the tests check every value to 1e-9:

- ``sma(x, n)``: mean of the last ``n`` values, defined from bar ``n-1``.
- ``ema(x, n)``: seeded with the SMA of the first ``n`` values, then
  ``ema_t = ema_{t-1} + 2/(n+1)·(x_t - ema_{t-1})``.
- ``rsi(x, n)``: Wilder's: the first average gain/loss is the simple mean of the first ``n``
  changes (RSI defined from bar ``n``), then ``avg_t = (avg_{t-1}·(n-1) + x_t)/n``;
  ``RSI = 100 - 100/(1 + gain/loss)``, 100 when the average loss is 0.
- ``macd(x, fast, slow, signal)``: ``line = ema(fast) - ema(slow)``, ``signal = ema`` of the
  line (seeded from its first ``signal`` defined values), ``hist = line - signal``.
- ``bollinger(x, n, k)``: ``mid = sma``, bands at ``k`` population standard deviations,
  ``pct_b = (x - lower)/(upper - lower)``.
- ``atr(n)``: Wilder-smoothed true range (TR needs the previous close, so ATR starts at bar n).

Values that are not defined yet (warm-up) are null. All of them use only bars up to ``t``.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

IntoExpr = str | pl.Expr


def _col(x: IntoExpr) -> pl.Expr:
    return pl.col(x) if isinstance(x, str) else x


def _check_period(n: int, name: str = "period") -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        from engine.errors import ParameterError

        raise ParameterError(f"{name} must be a whole number >= 1, got {n!r}")


def seeded_ewm(x: IntoExpr, n: int, alpha: float) -> pl.Expr:
    """Exponential smoothing seeded with the simple mean of the first ``n`` defined values.

    Leading nulls in ``x`` are skipped, so this also smooths series that start late (the
    MACD line, price changes).
    """
    x = _col(x)
    seed = x.rolling_mean(n)
    first = seed.is_not_null() & seed.shift(1).is_null()
    seeded = pl.when(seed.is_null()).then(None).when(first).then(seed).otherwise(x)
    return seeded.ewm_mean(alpha=alpha, adjust=False)


def sma(x: IntoExpr, n: int) -> pl.Expr:
    """Simple moving average over ``n`` bars."""
    _check_period(n)
    return _col(x).rolling_mean(n)


def ema(x: IntoExpr, n: int) -> pl.Expr:
    """Exponential moving average, SMA-seeded (TA-Lib's EMA)."""
    _check_period(n)
    return seeded_ewm(x, n, 2.0 / (n + 1))


def wilder(x: IntoExpr, n: int) -> pl.Expr:
    """Wilder's smoothing (alpha = 1/n), SMA-seeded."""
    _check_period(n)
    return seeded_ewm(x, n, 1.0 / n)


def rsi(x: IntoExpr = "close", n: int = 14) -> pl.Expr:
    """Wilder's relative strength index (0–100)."""
    _check_period(n)
    d = _col(x).diff()
    # d is null at bar 0; gain and loss stay null there so the seed is the first n changes.
    gain = wilder(pl.when(d.is_null()).then(None).when(d > 0).then(d).otherwise(0.0), n)
    loss = wilder(pl.when(d.is_null()).then(None).when(d < 0).then(-d).otherwise(0.0), n)
    return pl.when(loss == 0).then(100.0).otherwise(100.0 - 100.0 / (1.0 + gain / loss))


class MACD(NamedTuple):
    line: pl.Expr
    signal: pl.Expr
    hist: pl.Expr


def macd(x: IntoExpr = "close", fast: int = 12, slow: int = 26, signal: int = 9) -> MACD:
    """MACD line, signal line and histogram."""
    for n, name in ((fast, "macd fast"), (slow, "macd slow"), (signal, "macd signal")):
        _check_period(n, name)
    line = ema(x, fast) - ema(x, slow)
    sig = ema(line, signal)
    return MACD(line, sig, line - sig)


class Bollinger(NamedTuple):
    mid: pl.Expr
    upper: pl.Expr
    lower: pl.Expr
    pct_b: pl.Expr


def rolling_std(x: IntoExpr, n: int) -> pl.Expr:
    """Population standard deviation over ``n`` bars (as Bollinger and TA-Lib use)."""
    _check_period(n)
    return _col(x).rolling_std(n, ddof=0)


def bollinger(x: IntoExpr = "close", n: int = 20, k: float = 2.0) -> Bollinger:
    """Bollinger bands: SMA ± k population standard deviations, and %b."""
    _check_period(n)
    x = _col(x)
    mid = sma(x, n)
    sd = rolling_std(x, n)
    upper, lower = mid + k * sd, mid - k * sd
    return Bollinger(mid, upper, lower, (x - lower) / (upper - lower))


def true_range() -> pl.Expr:
    """max(high - low, |high - prev close|, |low - prev close|); null on the first bar."""
    prev = pl.col("close").shift(1)
    return pl.max_horizontal(
        pl.col("high") - pl.col("low"),
        (pl.col("high") - prev).abs(),
        (pl.col("low") - prev).abs(),
    ).pipe(lambda tr: pl.when(prev.is_null()).then(None).otherwise(tr))


def atr(n: int = 14) -> pl.Expr:
    """Average true range, Wilder-smoothed (TA-Lib's ATR)."""
    return wilder(true_range(), n)


def volume_sma(n: int = 20) -> pl.Expr:
    """Simple moving average of volume."""
    return sma("volume", n)
