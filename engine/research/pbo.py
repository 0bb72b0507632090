"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting" (Journal of
Computational Finance, 2017). Given a T × N matrix ``M`` of per-bar returns of the N
configurations a search tried (here: every genome an evolution run evaluated, on its
in-sample bars):

1. drop the oldest ``T mod S`` rows and cut the rest into ``S`` (even) blocks of equal
   length, in time order;
2. every choice of ``S/2`` blocks is one split (``C(S, S/2)`` of them — 12,870 for 16):
   those blocks form the in-sample set J, the other half the out-of-sample set J̄;
3. per split, the performance (default: the Sharpe ratio, mean / sample standard deviation
   of the per-bar returns; or the mean return) of every configuration on J and on J̄; n* is
   the in-sample best (the first on a tie);
4. ω = the rank of n*'s out-of-sample performance among all N (1 = worst, N = best; tied
   values share their average rank) divided by N + 1; the logit λ = ln(ω / (1 − ω));
5. **PBO** = the share of splits with λ ≤ 0 — the in-sample best ranks in the lower half
   out of sample (the median or below);
6. **performance degradation**: the least-squares slope of n*'s out-of-sample performance
   on its in-sample performance over the splits (negative: the better it looked in-sample,
   the worse it did after); **probability of loss**: the share of splits in which n*'s
   out-of-sample performance is below 0.

Block sums and sums of squares are computed once (S × N each); a split's in-sample figures
are the sum over its S/2 blocks and the out-of-sample ones the totals minus those; a split
and its complement share both arrays (roles swapped), so only half the splits are summed —
``C(S, S/2)/2 · N · S`` additions, in one numba-parallel kernel over the splits.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange

from engine.errors import ParameterError

__all__ = ["METRICS", "PBOResult", "cscv_splits", "pbo"]

#: Performance measures the splits rank by.
METRICS = ("sharpe", "mean")
_METRIC_IDS = {"sharpe": 0, "mean": 1}


@dataclass(frozen=True)
class PBOResult:
    """The CSCV figures of one T × N matrix (module docstring); per-split arrays included."""

    pbo: float
    degradation_slope: float | None
    degradation_intercept: float | None
    probability_of_loss: float
    n_splits: int
    n_blocks: int
    block_bars: int
    n_trials: int
    n_bars: int
    metric: str
    logits: np.ndarray  # (n_splits,) λ of each split
    in_sample_best: np.ndarray  # (n_splits,) n*'s in-sample performance
    out_of_sample_best: np.ndarray  # (n_splits,) n*'s out-of-sample performance

    def to_dict(self) -> dict[str, Any]:
        """The summary figures (the per-split arrays left out)."""
        return {
            "pbo": self.pbo, "degradation_slope": self.degradation_slope,
            "degradation_intercept": self.degradation_intercept,
            "probability_of_loss": self.probability_of_loss, "n_splits": self.n_splits,
            "n_blocks": self.n_blocks, "block_bars": self.block_bars,
            "n_trials": self.n_trials, "n_bars": self.n_bars, "metric": self.metric,
        }


def cscv_splits(n_blocks: int) -> np.ndarray:
    """``(C(S, S/2), S/2)`` int64: the in-sample blocks of every split, lexicographic."""
    return np.array(list(itertools.combinations(range(n_blocks), n_blocks // 2)), np.int64)


@njit(cache=True)
def _perf_nb(s, q, n, metric):
    mean = s / n
    if metric == 1:
        return mean
    var = (q - s * mean) / (n - 1) if n > 1 else 0.0
    if var <= 0.0:
        return 0.0
    return mean / math.sqrt(var)


@njit(cache=True)
def _side_nb(perf_in, perf_out, n):
    """n* (the first best of ``perf_in``), its ``perf_in`` and ``perf_out``, and λ."""
    best = -np.inf
    bi = 0
    for j in range(n):
        if perf_in[j] > best:
            best = perf_in[j]
            bi = j
    target = perf_out[bi]
    less = 0
    ties = 0
    for j in range(n):
        if perf_out[j] < target:
            less += 1
        elif perf_out[j] == target:
            ties += 1
    rank = less + (ties + 1) / 2.0  # 1-based, average rank among ties
    w = rank / (n + 1.0)
    return math.log(w / (1.0 - w)), best, target


@njit(cache=True, parallel=True)
def cscv_nb(bsum, bsq, counts, combos, metric, logits, is_best, oos_best):
    """Per split: λ, n*'s in-sample and out-of-sample performance (module docstring).

    ``combos`` are in lexicographic order, so the complement of split ``c`` is split
    ``K − 1 − c``: the first half is computed, and each gives its complement too (the two
    performance arrays swap roles), halving the work.
    """
    n_blocks, n = bsum.shape
    n_splits, half = combos.shape
    tot_s = np.zeros(n)
    tot_q = np.zeros(n)
    n_tot = 0
    for b in range(n_blocks):
        n_tot += counts[b]
        for j in range(n):
            tot_s[j] += bsum[b, j]
            tot_q[j] += bsq[b, j]
    for c in prange(n_splits // 2):
        acc_s = np.zeros(n)
        acc_q = np.zeros(n)
        n_is = 0
        for k in range(half):
            b = combos[c, k]
            n_is += counts[b]
            for j in range(n):
                acc_s[j] += bsum[b, j]
                acc_q[j] += bsq[b, j]
        n_oos = n_tot - n_is
        p_in = np.empty(n)
        p_out = np.empty(n)
        for j in range(n):
            p_in[j] = _perf_nb(acc_s[j], acc_q[j], n_is, metric)
            p_out[j] = _perf_nb(tot_s[j] - acc_s[j], tot_q[j] - acc_q[j], n_oos, metric)
        logits[c], is_best[c], oos_best[c] = _side_nb(p_in, p_out, n)
        d = n_splits - 1 - c
        logits[d], is_best[d], oos_best[d] = _side_nb(p_out, p_in, n)


def pbo(returns: np.ndarray, n_blocks: int = 16, *, metric: str = "sharpe") -> PBOResult:
    """CSCV probability of backtest overfitting of a ``(T, N)`` returns matrix.

    >>> r = np.random.default_rng(0).normal(0, 0.01, (1000, 50))   # 50 lucky coins
    >>> round(pbo(r, 8).pbo, 1)                                     # doctest: +SKIP
    0.5
    """
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2:
        raise ParameterError(f"PBO needs a 2-D (bars × trials) returns matrix, got shape "
                             f"{m.shape}; stack one column per configuration")
    t, n = m.shape
    if metric not in _METRIC_IDS:
        raise ParameterError(f"unknown PBO metric {metric!r}; choose one of {', '.join(METRICS)}")
    if n_blocks < 2 or n_blocks % 2:
        raise ParameterError(f"PBO needs an even number of blocks ≥ 2, got {n_blocks}; "
                             "16 is the paper's choice")
    if n < 2:
        raise ParameterError(f"PBO compares configurations: it needs at least 2 trials, got "
                             f"{n}; evolve the run further")
    least = 2 if metric == "sharpe" else 1
    length = t // n_blocks
    if length < least:
        raise ParameterError(
            f"{t} bars cut into {n_blocks} blocks leave {length} bar(s) per block; a "
            f"{metric} needs at least {least} — give fewer blocks or more in-sample bars")
    if not np.isfinite(m).all():
        raise ParameterError("the returns matrix has NaN or infinite values; give finite "
                             "per-bar returns (0 where a strategy is flat)")
    body = m[t - length * n_blocks:].reshape(n_blocks, length, n)
    bsum = np.ascontiguousarray(body.sum(axis=1))
    bsq = np.ascontiguousarray(np.einsum("ijk,ijk->ik", body, body))  # no T × N temporary
    counts = np.full(n_blocks, length, np.int64)
    combos = cscv_splits(n_blocks)
    k = combos.shape[0]
    logits, is_best, oos_best = np.empty(k), np.empty(k), np.empty(k)
    cscv_nb(bsum, bsq, counts, combos, _METRIC_IDS[metric], logits, is_best, oos_best)
    slope = intercept = None
    if np.ptp(is_best) > 0:
        slope, intercept = (float(x) for x in np.polyfit(is_best, oos_best, 1))
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)), degradation_slope=slope,
        degradation_intercept=intercept, probability_of_loss=float(np.mean(oos_best < 0.0)),
        n_splits=k, n_blocks=n_blocks, block_bars=length, n_trials=n, n_bars=t,
        metric=metric, logits=logits, in_sample_best=is_best, out_of_sample_best=oos_best,
    )
