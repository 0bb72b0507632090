"""Market-regime detection: bull / bear / sideways / high_volatility, from past bars only.

The rule (every quantity uses bars ``<= t`` only; polars rolling windows, no Python loop):

1. ``r_t = ln(close_t / close_{t-1})``; ``vol_t`` = standard deviation of ``r`` over the last
   ``vol_window`` bars (reported annualised as ``volatility = vol_t·√periods_per_year``).
2. **High volatility** when ``vol_t > vol_ratio × q_t``, where ``q_t`` is the
   ``vol_quantile`` quantile of ``vol`` over the trailing ``vol_rank_window`` bars (at least
   ``vol_min_history`` of them). Volatility is judged against the series' own history,
   so a calm market is not "volatile" because of its price level or asset class.
3. Otherwise the **trend strength** decides:
   ``trend_strength_t = ln(SMA_n(t) / SMA_n(t-k)) / (vol_t·√k)`` — the slope of the long
   SMA over ``k`` bars in units of the noise expected over ``k`` bars (a t-statistic-like
   number, comparable across assets). ``> +trend_threshold`` → bull,
   ``< −trend_threshold`` → bear, in between → sideways.
4. Bars before every input is defined (warm-up) are ``"unknown"``.

Defaults (``RegimeParams()``): ``sma_window=50``, ``slope_lookback=20``, ``vol_window=20``,
``vol_rank_window=252``, ``vol_min_history=60``, ``vol_quantile=0.5``, ``vol_ratio=1.7``,
``trend_threshold=0.5`` (about 0.8 standard deviations of ``trend_strength`` on a driftless
random walk). Tuned on the synthetic generator's planted regimes, they recover the true
label far better than chance: mean per-class recall about 0.48 on the default regimes
(chance 0.25) and 0.62 on strongly trending ones (see tests/market/test_regimes.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from engine.errors import ParameterError

REGIMES = ("bull", "bear", "sideways", "high_volatility")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class RegimeParams:
    """Parameters of the regime rule (see the module docstring)."""

    sma_window: int = 50
    slope_lookback: int = 20
    vol_window: int = 20
    vol_rank_window: int = 252
    vol_min_history: int = 60
    vol_quantile: float = 0.5
    vol_ratio: float = 1.7
    trend_threshold: float = 0.5
    periods_per_year: float = 252.0

    def check(self) -> None:
        for name in ("sma_window", "slope_lookback", "vol_window", "vol_rank_window",
                     "vol_min_history"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 2:
                raise ParameterError(f"RegimeParams.{name} must be a whole number >= 2, got {v!r}")
        if self.vol_min_history > self.vol_rank_window:
            raise ParameterError("RegimeParams.vol_min_history must be <= vol_rank_window")
        if not 0.0 < self.vol_quantile < 1.0:
            raise ParameterError("RegimeParams.vol_quantile must be between 0 and 1")
        if self.vol_ratio <= 0 or self.trend_threshold < 0 or self.periods_per_year <= 0:
            raise ParameterError("RegimeParams: vol_ratio and periods_per_year must be > 0, "
                                 "trend_threshold >= 0")


def regime_exprs(params: RegimeParams = RegimeParams()) -> dict[str, pl.Expr]:
    """The expressions behind :func:`detect_regimes` (``trend_strength``, ``volatility``,
    ``vol_threshold``, ``regime``), for callers that build their own ``select``."""
    params.check()
    p = params
    r = pl.col("close").log().diff()
    vol = r.rolling_std(p.vol_window)
    q = vol.rolling_quantile(p.vol_quantile, window_size=p.vol_rank_window,
                             min_samples=p.vol_min_history)
    sma = pl.col("close").rolling_mean(p.sma_window)
    strength = (sma / sma.shift(p.slope_lookback)).log() / (vol * math.sqrt(p.slope_lookback))
    threshold = p.vol_ratio * q
    regime = (
        pl.when(strength.is_null() | threshold.is_null() | ~strength.is_finite())
        .then(pl.lit(UNKNOWN))
        .when(vol > threshold).then(pl.lit("high_volatility"))
        .when(strength > p.trend_threshold).then(pl.lit("bull"))
        .when(strength < -p.trend_threshold).then(pl.lit("bear"))
        .otherwise(pl.lit("sideways"))
    )
    scale = math.sqrt(p.periods_per_year)
    return {
        "trend_strength": strength,
        "volatility": vol * scale,
        "vol_threshold": threshold * scale,
        "regime": regime,
    }


def detect_regimes(df: pl.DataFrame, *, params: RegimeParams = RegimeParams()) -> pl.DataFrame:
    """The input plus ``trend_strength``, ``volatility``, ``vol_threshold`` and ``regime``.

    ``regime`` is one of bull / bear / sideways / high_volatility, or unknown in the warm-up.
    """
    if "close" not in df.columns:
        raise ParameterError("detect_regimes needs a 'close' column (a canonical OHLCV frame)")
    return df.with_columns(**regime_exprs(params))


def regime_spans(df: pl.DataFrame) -> list[dict[str, Any]]:
    """Contiguous runs of one regime: ``[{"start", "end", "regime"}, …]`` (for chart shading).

    ``df`` needs ``timestamp`` and ``regime`` (the output of :func:`detect_regimes`);
    ``start``/``end`` are the first and last bar of each run.
    """
    if df.height == 0:
        return []
    runs = (
        df.select("timestamp", "regime")
        .with_columns(run=pl.col("regime").rle_id())
        .group_by("run", maintain_order=True)
        .agg(pl.col("timestamp").first().alias("start"), pl.col("timestamp").last().alias("end"),
             pl.col("regime").first())
    )
    return [
        {"start": s, "end": e, "regime": g}
        for s, e, g in zip(runs["start"].to_list(), runs["end"].to_list(),
                           runs["regime"].to_list(), strict=False)
    ]


def current_regime(df: pl.DataFrame, *, params: RegimeParams = RegimeParams()) -> str:
    """The regime of the last bar ("unknown" when the series is shorter than the warm-up)."""
    if df.height == 0:
        return UNKNOWN
    return str(detect_regimes(df, params=params)["regime"][-1])


def warmup_bars(params: RegimeParams = RegimeParams()) -> int:
    """How many bars the rule needs before the first label (the longest window it uses)."""
    return max(params.sma_window + params.slope_lookback,
               params.vol_window + params.vol_min_history - 1)


__all__ = ["REGIMES", "UNKNOWN", "RegimeParams", "current_regime", "detect_regimes",
           "regime_exprs", "regime_spans", "warmup_bars"]
