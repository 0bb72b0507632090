"""Deterministic synthetic market data: regime-switching geometric Brownian motion.

Why: the lab needs data that works offline (bundled samples), data of any length (speed
tests on 1,000,000 bars) and data whose *true* market regime is known (to test the regime
detector). One seeded generator gives all three.

The model
---------
A Markov chain moves between regimes; each regime is a :class:`RegimeState` with an
annualised drift ``mu`` and volatility ``sigma`` and a mean duration in bars. The chain
stays in state ``i`` with probability ``1 - 1/duration_i`` and otherwise jumps to another
state ``j`` with probability proportional to ``weight_j``. Per bar (``dt = 1/periods_per_year``)
the log close moves by ``N((mu - sigma²/2)·dt, sigma²·dt)``.

From the close path:

- ``open_t = close_{t-1}·exp(g)`` with a small gap ``g ~ N(0, (0.15·sigma·√dt)²)``;
- ``high = max(open, close)·exp(|N(0, (0.5·sigma·√dt)²)|)``, ``low`` mirrored below;
- ``volume = 1e6·(1 + 2·|r|/(sigma·√dt))·LogNormal(0, 0.25)``, so volume rises with absolute
  returns (rounded to whole units).

Prices are rounded to 4 decimals (a realistic tick; it also makes the output identical on
every CPU, whatever the last bit of ``exp``) and the log price is reflected into
``[s0/1000, s0·1000]`` so that arbitrarily long series stay finite and positive — for the
lengths used by the samples (a few thousand bars) the reflection never triggers.

Default regimes (annualised, ``DEFAULT_REGIMES``):

===============  ======  =======  =============  ======
state            drift   vol      mean duration  weight
===============  ======  =======  =============  ======
bull             +25 %   15 %     120 bars       1
bear             −25 %   22 %      80 bars       1
sideways           0 %   10 %     100 bars       1
high_volatility    0 %   55 %      40 bars       0.5
===============  ======  =======  =============  ======
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

from engine.errors import ParameterError

REGIME_NAMES = ("bull", "bear", "sideways", "high_volatility")


@dataclass(frozen=True)
class RegimeState:
    """One market regime: annualised drift and volatility, mean duration (bars), weight."""

    name: str
    mu: float
    sigma: float
    duration: float
    weight: float = 1.0


DEFAULT_REGIMES: tuple[RegimeState, ...] = (
    RegimeState("bull", 0.25, 0.15, 120, 1.0),
    RegimeState("bear", -0.25, 0.22, 80, 1.0),
    RegimeState("sideways", 0.0, 0.10, 100, 1.0),
    RegimeState("high_volatility", 0.0, 0.55, 40, 0.5),
)

_FREQ_RE = re.compile(r"^(\d+)(m|h|d|w)$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _jump_cdf(regimes: tuple[RegimeState, ...]) -> list[list[float]]:
    """Per state: cumulative probabilities of the *next* state, given that the chain leaves."""
    rows = []
    for i in range(len(regimes)):
        w = [0.0 if j == i else r.weight for j, r in enumerate(regimes)]
        total = sum(w)
        rows.append(list(np.cumsum(w) / total) if total > 0 else [])
    return rows


def _regime_path(n: int, regimes: tuple[RegimeState, ...], rng: np.random.Generator) -> np.ndarray:
    """State index per bar.

    Spell lengths are geometric (mean ``duration``), drawn vectorised per chunk of spells;
    the only Python loop runs over spells (one per ~100 bars), never over bars.
    """
    k = len(regimes)
    p_leave = np.array([1.0 / r.duration for r in regimes])
    cdf = _jump_cdf(regimes)
    w = np.array([r.weight * r.duration for r in regimes], dtype=float)
    state = int(rng.choice(k, p=w / w.sum())) if w.sum() > 0 else 0
    states: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    total = 0
    while total < n:
        m = int(n * p_leave.max()) + 16
        u = rng.random(m)
        chunk = np.empty(m, dtype=np.int8)
        for j in range(m):
            chunk[j] = state
            if cdf[state]:
                state = min(bisect.bisect_right(cdf[state], u[j]), k - 1)
                if state == chunk[j]:  # float edge: never "jump" into the same state
                    state = (state + 1) % k
        spell = rng.geometric(p_leave[chunk])
        states.append(chunk)
        lengths.append(spell)
        total += int(spell.sum())
    return np.repeat(np.concatenate(states), np.concatenate(lengths))[:n]


def _timestamps(n: int, start: str | date | datetime, freq: str) -> np.ndarray:
    """``n`` timestamps: business days for ``"1d"``, otherwise a fixed step."""
    start64 = np.datetime64(
        start if not isinstance(start, datetime) else start.replace(tzinfo=None)
    )
    if freq == "1d":
        days = np.busday_offset(start64.astype("datetime64[D]"), np.arange(n), roll="forward")
        return days.astype("datetime64[us]")
    m = _FREQ_RE.match(freq)
    if not m:
        raise ParameterError(
            f"unknown freq {freq!r}: use '1d' (business days) or a step like '1m', '5m', '1h', "
            "'2d', '1w'"
        )
    step = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if step <= 0:
        raise ParameterError(f"freq {freq!r} must be a positive step, e.g. '1h'")
    return start64.astype("datetime64[us]") + np.arange(n, dtype=np.int64) * np.timedelta64(
        step * 1_000_000, "us"
    )


def _periods_per_year(freq: str) -> float:
    if freq == "1d":
        return 252.0
    m = _FREQ_RE.match(freq)
    assert m is not None
    step = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if m.group(2) in ("d", "w"):
        return 252.0 * 86400 / step * (5 / 7 if m.group(2) == "w" else 1.0)
    return 365.25 * 86400 / step


def _reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Fold ``x`` into ``[lo, hi]`` like a ball bouncing between two walls (vectorised)."""
    width = hi - lo
    y = np.mod(x - lo, 2 * width)
    return lo + np.where(y > width, 2 * width - y, y)


def generate_synthetic(
    n_bars: int,
    *,
    seed: int,
    start: str | date | datetime = "2015-01-02",
    freq: str = "1d",
    s0: float = 100.0,
    regimes: tuple[RegimeState, ...] = DEFAULT_REGIMES,
    with_regimes: bool = False,
) -> pl.DataFrame:
    """A canonical OHLCV frame of ``n_bars`` bars; the same ``seed`` gives the same frame.

    ``freq="1d"`` steps over business days (Mon–Fri) from ``start``; other steps (``"1h"``,
    ``"5m"``, ``"1w"``…) are continuous. ``with_regimes=True`` adds a ``true_regime`` column
    (the planted state of each bar) for testing regime detection.

    >>> generate_synthetic(3, seed=1).columns
    ['timestamp', 'open', 'high', 'low', 'close', 'volume']
    """
    if not isinstance(n_bars, int) or isinstance(n_bars, bool) or n_bars < 1:
        raise ParameterError(f"n_bars must be a whole number >= 1, got {n_bars!r}")
    if not (s0 > 0 and np.isfinite(s0)):
        raise ParameterError(f"s0 must be a positive price, got {s0!r}")
    if not regimes or any(r.duration < 1 or r.sigma < 0 or r.weight < 0 for r in regimes):
        raise ParameterError("regimes need duration >= 1, sigma >= 0 and weight >= 0 each")
    ts = _timestamps(n_bars, start, freq)
    dt = 1.0 / _periods_per_year(freq)
    rng = np.random.default_rng(seed)

    state = _regime_path(n_bars, tuple(regimes), rng)
    mu = np.array([r.mu for r in regimes])[state]
    sig = np.array([r.sigma for r in regimes])[state] * np.sqrt(dt)
    z = rng.standard_normal((4, n_bars))
    ret = (mu * dt - 0.5 * sig**2) + sig * z[0]
    ret[0] = 0.0
    lo, hi = np.log(s0) - np.log(1000.0), np.log(s0) + np.log(1000.0)
    log_close = _reflect(np.log(s0) + np.cumsum(ret), lo, hi)
    prev_close = np.concatenate(([np.log(s0)], log_close[:-1]))
    log_open = _reflect(prev_close + 0.15 * sig * z[1], lo, hi)
    close = np.round(np.exp(log_close), 4)
    open_ = np.round(np.exp(log_open), 4)
    high = np.maximum(np.round(np.maximum(open_, close) * np.exp(0.5 * sig * np.abs(z[2])), 4),
                      np.maximum(open_, close))
    low = np.minimum(np.round(np.minimum(open_, close) * np.exp(-0.5 * sig * np.abs(z[3])), 4),
                     np.minimum(open_, close))
    floor = 1e-4  # one tick: rounding must never produce a zero price
    open_, high, low, close = (np.maximum(a, floor) for a in (open_, high, low, close))
    realised = np.abs(np.diff(log_close, prepend=np.log(s0)))
    noise = rng.lognormal(0.0, 0.25, n_bars)
    volume = np.round(1e6 * (1.0 + 2.0 * realised / np.where(sig > 0, sig, 1.0)) * noise)

    frame = pl.DataFrame(
        {
            "timestamp": pl.Series(ts, dtype=pl.Datetime("us")),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume.astype(np.float64),
        }
    )
    if with_regimes:
        names = np.array([r.name for r in regimes], dtype=object)
        frame = frame.with_columns(true_regime=pl.Series(names[state], dtype=pl.String))
    return frame
