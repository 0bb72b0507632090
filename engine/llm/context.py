"""The market snapshot an analyst sees: indicators and regime of one symbol at one as-of bar.

Only bars up to and including ``as_of`` are used (no look-ahead): the frame is cut first,
then indicators and the regime are computed on what is left. Every number carries a *kind*
that says how the response cache buckets it (:mod:`engine.llm.cache`):

=================  ======  ==================================================
field              kind    meaning
=================  ======  ==================================================
close              price   as-of close
sma20 / sma50      price   simple moving averages
bb_upper/bb_lower  price   Bollinger bands (20, 2)
atr14              price   average true range (Wilder, 14)
ret_1d/5d/20d_pct  pct     close-to-close returns over 1, 5, 20 bars, %
dist_sma50_pct     pct     (close / sma50 − 1) · 100
atr_pct            pct     atr14 / close · 100
macd_hist_pct      pct     MACD(12, 26, 9) histogram / close · 100
volatility_pct     pct     annualised volatility of log returns (regime rule), %
rsi14              osc     Wilder RSI (0–100)
bb_pct_b           ratio   Bollinger %b
volume_ratio       ratio   volume / SMA20(volume)
trend_strength     ratio   the regime rule's trend t-statistic
=================  ======  ==================================================

A **blind** snapshot (:func:`engine.llm.blind.blind_context`) shows the same numbers with
the symbol and every date left out and the ``price`` fields rebased to 100 at the first bar
the snapshot uses (``base_close``); ``pct``, ``osc`` and ``ratio`` fields are unchanged, and
the bar interval is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl

from engine.errors import ParameterError
from engine.market import indicators as ind
from engine.market.regimes import detect_regimes

KINDS: dict[str, str] = {
    "close": "price", "sma20": "price", "sma50": "price", "bb_upper": "price",
    "bb_lower": "price", "atr14": "price",
    "ret_1d_pct": "pct", "ret_5d_pct": "pct", "ret_20d_pct": "pct", "dist_sma50_pct": "pct",
    "atr_pct": "pct", "macd_hist_pct": "pct", "volatility_pct": "pct",
    "rsi14": "osc",
    "bb_pct_b": "ratio", "volume_ratio": "ratio", "trend_strength": "ratio",
}
MIN_BARS = 30
#: Indicators an analysis cannot do without, and the bars each needs before it has a value
#: (a dataset with fewer is refused, never analysed on missing numbers).
WARMUP_BARS: dict[str, int] = {"sma20": 20, "rsi14": 15, "atr14": 14, "macd_hist_pct": 34,
                               "sma50": 50}


@dataclass(frozen=True)
class MarketContext:
    """One symbol as of one bar: numbers (``values``), the regime and the as-of time."""

    symbol: str
    as_of: datetime
    price: float
    regime: str
    values: dict[str, float | None] = field(default_factory=dict)
    n_bars: int = 0
    #: close of the first bar the indicators were computed on (what a blind view rebases)
    base_close: float | None = None
    #: bars the indicators were computed on (the tail of the history)
    window_bars: int = 0
    #: the bar interval ("1d", "1h", "15m", ...), kept in a blind view
    interval: str = ""
    #: a blind view: no symbol or date in its text, prices rebased (``scale`` = 100 / base)
    blind: bool = False
    scale: float = 1.0
    #: the named snapshot a blind view was made from (None for a named snapshot)
    source: MarketContext | None = None

    @property
    def named(self) -> MarketContext:
        """The snapshot on the real price scale (itself unless blind)."""
        return self.source if self.source is not None else self

    @property
    def label(self) -> str:
        """What a template calls the asset: the symbol, or "the asset" when blind."""
        return "the asset" if self.blind else self.symbol

    @property
    def when(self) -> str:
        """What a template calls the as-of date: the date, or "its latest bar" when blind."""
        return "its latest bar" if self.blind else f"{self.as_of:%Y-%m-%d}"

    def text(self) -> str:
        """The snapshot as compact ``name: value`` lines (the ``{context}`` of a template)."""
        if self.blind:
            lines = ["asset: undisclosed (blind analysis)",
                     f"bar interval: {self.interval or 'unknown'}",
                     f"prices: rebased so that the first of these {self.window_bars} bars "
                     "closed at 100; give every price level on this scale",
                     f"regime (rule-based): {self.regime}",
                     f"bars in this window: {self.window_bars}"]
        else:
            lines = [f"symbol: {self.symbol}", f"as_of: {self.as_of:%Y-%m-%d}",
                     f"regime (rule-based): {self.regime}", f"bars of history: {self.n_bars}"]
        for k in KINDS:
            v = self.values.get(k)
            lines.append(f"{k}: {'n/a' if v is None else _fmt(v)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        doc = {"symbol": self.symbol, "as_of": self.as_of.isoformat(), "price": self.price,
               "regime": self.regime, "values": dict(self.values), "n_bars": self.n_bars}
        if self.blind:
            doc.update(blind=True, scale=self.scale, base_close=self.base_close)
        return doc


def bar_interval(ts: pl.Series) -> str:
    """The typical spacing of ``ts`` as a label: "1d", "1wk", "4h", "15m" ("" if unknown)."""
    if ts.len() < 2:
        return ""
    step = ts.diff().drop_nulls().median()
    if step is None:
        return ""
    secs = step.total_seconds() if hasattr(step, "total_seconds") else float(step) / 1e6
    if secs >= 6 * 86400:
        return f"{round(secs / (7 * 86400))}wk"
    if secs >= 20 * 3600:
        return "1d"
    if secs >= 3600:
        return f"{round(secs / 3600)}h"
    return f"{max(1, round(secs / 60))}m"


def _fmt(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1000 else f"{v:.2f}"


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def cut(df: pl.DataFrame, as_of: str | date | datetime | None,
        symbol: str = "the dataset") -> pl.DataFrame:
    """Bars up to and including ``as_of`` (a date includes its whole day). An ``as_of``
    after the last bar is refused (the analysis would silently be of the last bar)."""
    if as_of is None:
        return df
    if isinstance(as_of, str):
        try:
            as_of = datetime.fromisoformat(as_of)
        except ValueError:
            raise ParameterError(f"as-of date {as_of!r} is not ISO (use YYYY-MM-DD)") from None
    if isinstance(as_of, datetime):
        if as_of.tzinfo is not None:
            as_of = as_of.replace(tzinfo=None)
        if as_of.time() == datetime.min.time():
            as_of = as_of.date()
    if not isinstance(as_of, datetime):
        limit = datetime.combine(as_of, datetime.max.time())
    else:
        limit = as_of
    if df.height:
        last = df["timestamp"].max()
        if isinstance(last, datetime) and last.tzinfo is not None:
            last = last.replace(tzinfo=None)
        last_day = last.date() if isinstance(last, datetime) else last
        asked_day = as_of.date() if isinstance(as_of, datetime) else as_of
        if isinstance(last_day, date) and asked_day > last_day:
            raise ParameterError(
                f"as-of {asked_day.isoformat()} is after the last bar of {symbol} "
                f"({last_day.isoformat()}); give an as-of on or before "
                f"{last_day.isoformat()}, or leave it out to use the last bar")
    return df.filter(pl.col("timestamp") <= limit)


def build_context(symbol: str, df: pl.DataFrame,
                  as_of: str | date | datetime | None = None) -> MarketContext:
    """The snapshot of ``symbol`` at the last bar of ``df`` up to ``as_of``."""
    view = cut(df, as_of, symbol)
    if view.height < MIN_BARS:
        raise ParameterError(
            f"{symbol} has only {view.height} bars up to {as_of}; an analysis needs at least "
            f"{MIN_BARS} — choose a later as-of date")
    tail = view.tail(400)  # indicators here need < 300 bars of history; keeps it fast
    macd = ind.macd("close", 12, 26, 9)
    bb = ind.bollinger("close", 20, 2.0)
    c = pl.col("close")
    feats = detect_regimes(tail).select(
        "timestamp", "close", "regime", "trend_strength", "volatility",
        sma20=ind.sma("close", 20), sma50=ind.sma("close", 50),
        bb_upper=bb.upper, bb_lower=bb.lower, bb_pct_b=bb.pct_b,
        atr14=ind.atr(14), rsi14=ind.rsi("close", 14),
        macd_hist_pct=macd.hist / c * 100.0,
        ret_1d_pct=(c / c.shift(1) - 1) * 100.0,
        ret_5d_pct=(c / c.shift(5) - 1) * 100.0,
        ret_20d_pct=(c / c.shift(20) - 1) * 100.0,
        volume_ratio=pl.col("volume") / ind.volume_sma(20),
    ).row(-1, named=True)
    short = [f"{k} (needs {n} bars)" for k, n in WARMUP_BARS.items() if _num(feats.get(k)) is None]
    if short:
        raise ParameterError(
            f"{symbol} has only {view.height} bars up to {feats['timestamp']:%Y-%m-%d}, too "
            f"few for {', '.join(short)}; an analysis needs every indicator — use a longer "
            f"dataset or a later as-of date (at least {max(WARMUP_BARS.values())} bars)")
    close = float(feats["close"])
    vals: dict[str, float | None] = {k: _num(feats.get(k)) for k in KINDS if k in feats}
    vals["close"] = close
    vals["trend_strength"] = _num(feats["trend_strength"])
    vol = _num(feats["volatility"])
    vals["volatility_pct"] = None if vol is None else vol * 100.0
    sma50 = vals.get("sma50")
    vals["dist_sma50_pct"] = None if not sma50 else (close / sma50 - 1) * 100.0
    atr = vals.get("atr14")
    vals["atr_pct"] = None if atr is None else atr / close * 100.0
    return MarketContext(symbol=symbol, as_of=feats["timestamp"], price=close,
                         regime=str(feats["regime"]), values=vals, n_bars=view.height,
                         base_close=float(tail["close"][0]), window_bars=tail.height,
                         interval=bar_interval(tail["timestamp"]))


__all__ = ["KINDS", "MIN_BARS", "MarketContext", "bar_interval", "build_context", "cut"]
