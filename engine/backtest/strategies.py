"""Rule strategies: their parameters, the indicators they need and how they vote.

A strategy here is a *description*: typed, bounded parameters, the indicator keys it needs
(computed once per dataset in an :class:`~engine.backtest.bank.IndicatorBank`) and how its
parameter set packs into the compiled kernel (:func:`engine.backtest.kernel.signals_nb`).
Signals are emitted at the close of bar ``t``; ``+1`` wants long, ``-1`` wants out of a
long (or short when shorting is allowed).

=============  ===========================================================================
strategy       rule
=============  ===========================================================================
sma_cross      +1 when SMA(fast) crosses above SMA(slow), -1 when it crosses below
rsi            +1 while RSI(period) < oversold, -1 while RSI > overbought
macd           +1 when the MACD line crosses above its signal line, -1 when below
bollinger      +1 when close < lower band (mean reversion), -1 when close > upper band
genome         four votes and a volume filter (below); the 15 evolvable genes
=============  ===========================================================================

**genome** — each component votes +1 (bullish), -1 (bearish) or 0 at the close of bar t:

- RSI(rsi_period): +1 if RSI < rsi_oversold, -1 if RSI > rsi_overbought;
- trend: +1 if SMA(sma_short) > SMA(sma_long), -1 if below;
- MACD(macd_fast, macd_slow, macd_signal): +1 if the histogram > 0, -1 if < 0;
- Bollinger(bb_period, bb_std): +1 if close < lower band, -1 if close > upper band.

The score is the sum (-4..4). **Entry** (+1) when score >= 2 *and* volume > SMA(volume,
volume_sma) — the volume filter confirms entries only. **Exit** (-1) when score <= -2.
Stop-loss, take-profit and position size come from the genes ``stop_loss``, ``take_profit``
and ``position_size`` (fractions; position_size of equity). ``max_positions`` caps how many
symbols hold a position at once in a multi-symbol portfolio backtest (a single-symbol
backtest holds at most one position, so it has no effect there).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.backtest import enums
from engine.errors import ParameterError

IndicatorKey = tuple  # ("sma", 20), ("rsi", 14), ("macd_hist", 12, 26, 9), ...


@dataclass(frozen=True)
class Param:
    """One bounded parameter. ``kind`` is ``int`` (periods, counts) or ``float``."""

    name: str
    kind: type
    low: float
    high: float
    default: float
    doc: str = ""

    def coerce(self, value: Any, strategy: str) -> int | float:
        # fast path (a batch resolves 15,000 genes): an in-range int or finite float is
        # returned as the slow path below would return it
        t = type(value)
        if self.kind is int:
            if t is int and self.low <= value <= self.high:
                return value
        elif t is float and self.low <= value <= self.high:  # nan fails the comparison
            return value
        where = f"{strategy} parameter {self.name}"
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{where} must be a number, got {value!r}; use e.g. {self.name}={self.default}"
            ) from None
        if not math.isfinite(x):
            raise ParameterError(f"{where} must be finite, got {value!r}")
        if self.kind is int:
            if x != round(x):
                raise ParameterError(
                    f"{where} must be a whole number, got {value!r}; use e.g. {round(x)}"
                )
            x = int(round(x))
        if not self.low <= x <= self.high:
            raise ParameterError(
                f"{where}={value!r} is outside its range {self.low:g}..{self.high:g}; "
                f"pick a value inside it"
            )
        return x


@dataclass(frozen=True)
class Strategy:
    """A named rule strategy (see the module docstring for the rules)."""

    name: str
    kernel_id: int
    params: tuple[Param, ...]
    description: str

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.params]

    @functools.cached_property
    def _name_set(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params)

    def defaults(self) -> dict[str, int | float]:
        return {p.name: (int(p.default) if p.kind is int else float(p.default))
                for p in self.params}

    def resolve(self, given: Mapping[str, Any] | None = None) -> dict[str, int | float]:
        """Defaults overlaid with ``given``, coerced, range- and constraint-checked."""
        given = dict(given or {})
        if given.keys() == self._name_set:  # every parameter given: no defaults to merge
            out = {p.name: p.coerce(given[p.name], self.name) for p in self.params}
            self.check(out)
            return out
        unknown = sorted(set(given) - self._name_set)
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {', '.join(unknown)} for strategy {self.name}; "
                f"valid: {', '.join(self.param_names)}"
            )
        out = self.defaults()
        for p in self.params:
            if p.name in given:
                out[p.name] = p.coerce(given[p.name], self.name)
        self.check(out)
        return out

    def check(self, p: Mapping[str, Any]) -> None:
        """Cross-parameter constraints (raise ParameterError)."""
        for a, b in _ORDERED.get(self.name, ()):
            if not p[a] < p[b]:
                raise ParameterError(
                    f"{self.name} needs {a} < {b}, got {a}={p[a]} and {b}={p[b]}; "
                    f"swap them or change one"
                )

    @property
    def key_spec(self) -> tuple[tuple[str, ...], ...]:
        """The indicator keys as templates: ``(kind, parameter name, ...)`` per key (the
        genome's ``("macd_hist", "macd_fast", "macd_slow", "macd_signal")`` is the key
        ``("macd_hist", p["macd_fast"], p["macd_slow"], p["macd_signal"])``)."""
        return _KEY_SPEC[self.name]

    @property
    def value_names(self) -> tuple[str, ...]:
        """The float parameters :func:`~engine.backtest.kernel.signals_nb` reads, in order."""
        return _VALUE_NAMES.get(self.name, ())

    def indicator_keys(self, p: Mapping[str, Any]) -> list[IndicatorKey]:
        return [(kind, *(p[n] for n in names)) for kind, *names in self.key_spec]

    def pack(self, p: Mapping[str, Any], index: Mapping[IndicatorKey, int],
             keys: Sequence[IndicatorKey] | None = None) -> tuple[list[int], list[float]]:
        """Bank rows and float values for :func:`~engine.backtest.kernel.signals_nb`
        (``keys``: ``indicator_keys(p)`` when the caller has them already)."""
        rows = [index[k] for k in (keys if keys is not None else self.indicator_keys(p))]
        return rows, [float(p[n]) for n in self.value_names]

    def resolve_many(self, param_sets: Sequence[Mapping[str, Any]]
                     ) -> tuple[list[dict[str, int | float]], dict[str, np.ndarray] | None]:
        """``[resolve(p) for p in param_sets]`` and, when it could take the fast path, the
        parameters as columns (``{name: array}``).

        The fast path — every set a dict of exactly this strategy's parameters, ints for
        the whole-number ones and floats for the rest, all in range and constraints met,
        checked a column at a time — returns what :meth:`resolve` would, at a tenth of the
        cost; anything else goes through :meth:`resolve` one set at a time, so a bad set
        raises exactly the error it raises alone.
        """
        sets = list(param_sets)
        names = self._name_set
        if sets and all(type(p) is dict and p.keys() == names for p in sets):
            cols = _checked_columns(self, sets)
            if cols is not None:
                order = self.param_names
                return [{n: p[n] for n in order} for p in sets], cols
        return [self.resolve(p) for p in sets], None

    def trade_genes(self, p: Mapping[str, Any]) -> dict[str, float]:
        """Stop-loss, take-profit and size carried by the parameters (genome only)."""
        if self.name != "genome":
            return {}
        return {"stop_loss": p["stop_loss"], "take_profit": p["take_profit"],
                "size": p["position_size"]}


_ORDERED = {
    "sma_cross": [("fast", "slow")],
    "rsi": [("oversold", "overbought")],
    "macd": [("fast", "slow")],
    "genome": [("sma_short", "sma_long"), ("macd_fast", "macd_slow"),
               ("rsi_oversold", "rsi_overbought")],
}

_KEY_SPEC: dict[str, tuple[tuple[str, ...], ...]] = {
    "sma_cross": (("sma", "fast"), ("sma", "slow")),
    "rsi": (("rsi", "period"),),
    "macd": (("macd_line", "fast", "slow"), ("macd_signal", "fast", "slow", "signal")),
    "bollinger": (("sma", "period"), ("std", "period")),
    "genome": (("rsi", "rsi_period"), ("sma", "sma_short"), ("sma", "sma_long"),
               ("macd_hist", "macd_fast", "macd_slow", "macd_signal"), ("sma", "bb_period"),
               ("std", "bb_period"), ("vol_sma", "volume_sma")),
}
_VALUE_NAMES: dict[str, tuple[str, ...]] = {
    "rsi": ("oversold", "overbought"),
    "bollinger": ("std",),
    "genome": ("rsi_oversold", "rsi_overbought", "bb_std"),
}


def _checked_columns(strat: Strategy, sets: list[dict[str, Any]]
                     ) -> dict[str, np.ndarray] | None:
    """The sets as typed columns if every value passes :meth:`Param.coerce`'s fast path and
    the constraints hold; None otherwise (then :meth:`Strategy.resolve` decides)."""
    cols: dict[str, np.ndarray] = {}
    for prm in strat.params:
        values = [p[prm.name] for p in sets]
        if prm.kind is int:
            if not all(type(v) is int for v in values):
                return None
            try:
                arr = np.array(values, np.int64)
            except OverflowError:
                return None
        else:
            if not all(type(v) is float for v in values):
                return None
            arr = np.array(values, np.float64)
        if not ((arr >= prm.low) & (arr <= prm.high)).all():  # NaN fails both
            return None
        cols[prm.name] = arr
    for a, b in _ORDERED.get(strat.name, ()):
        if not (cols[a] < cols[b]).all():
            return None
    return cols


#: The genome: exactly the 15 evolvable parameters and ranges of ARCHITECTURE.md.
GENOME_PARAMS: tuple[Param, ...] = (
    Param("rsi_period", int, 10, 30, 14, "RSI lookback (bars)"),
    Param("rsi_oversold", float, 20, 40, 30, "RSI below this votes +1"),
    Param("rsi_overbought", float, 60, 80, 70, "RSI above this votes -1"),
    Param("sma_short", int, 5, 25, 10, "fast trend SMA (bars)"),
    Param("sma_long", int, 20, 100, 50, "slow trend SMA (bars)"),
    Param("macd_fast", int, 8, 16, 12, "MACD fast EMA (bars)"),
    Param("macd_slow", int, 20, 32, 26, "MACD slow EMA (bars)"),
    Param("macd_signal", int, 5, 15, 9, "MACD signal EMA (bars)"),
    Param("bb_period", int, 10, 30, 20, "Bollinger lookback (bars)"),
    Param("bb_std", float, 1.5, 3.0, 2.0, "Bollinger band width (std devs)"),
    Param("volume_sma", int, 10, 30, 20, "volume filter SMA (bars)"),
    Param("stop_loss", float, 0.02, 0.10, 0.05, "stop-loss, fraction of fill price"),
    Param("take_profit", float, 0.05, 0.20, 0.10, "take-profit, fraction of fill price"),
    Param("position_size", float, 0.05, 0.25, 0.25, "fraction of equity per position"),
    Param("max_positions", int, 1, 5, 3, "positions open at once (portfolio)"),
)

STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy("sma_cross", enums.SMA_CROSS, (
            Param("fast", int, 1, 500, 10, "fast SMA (bars)"),
            Param("slow", int, 2, 1000, 30, "slow SMA (bars)"),
        ), "Trend following: SMA(fast) crossing SMA(slow)"),
        Strategy("rsi", enums.RSI, (
            Param("period", int, 2, 200, 14, "RSI lookback (bars)"),
            Param("oversold", float, 0, 100, 30, "enter long below"),
            Param("overbought", float, 0, 100, 70, "exit long above"),
        ), "Mean reversion on Wilder's RSI levels"),
        Strategy("macd", enums.MACD, (
            Param("fast", int, 1, 200, 12, "fast EMA (bars)"),
            Param("slow", int, 2, 400, 26, "slow EMA (bars)"),
            Param("signal", int, 1, 200, 9, "signal EMA (bars)"),
        ), "Momentum: MACD line crossing its signal line"),
        Strategy("bollinger", enums.BOLLINGER, (
            Param("period", int, 2, 500, 20, "lookback (bars)"),
            Param("std", float, 0.1, 10.0, 2.0, "band width (std devs)"),
        ), "Mean reversion: close outside the Bollinger bands"),
        Strategy("genome", enums.GENOME, GENOME_PARAMS,
                 "The evolvable 15-gene composite: RSI, SMA trend, MACD and Bollinger votes "
                 "with a volume filter, stops and sizing"),
    )
}


def get_strategy(name: str) -> Strategy:
    """Look a strategy up by name (case-insensitive)."""
    s = STRATEGIES.get(str(name).lower())
    if s is None:
        raise ParameterError(
            f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}"
        )
    return s
