"""How sure can we be? Intervals and paired tests for the analyst's scores.

A replay of twenty decisions with 60 % accuracy says almost nothing; these numbers make a
small sample say that it is small.

- :func:`wilson` — the Wilson score interval of a proportion (accuracy, win rate, hit rate
  of a confidence bucket): centre (k + z²/2)/(n + z²), half-width
  z·sqrt(k(n − k)/n + z²/4)/(n + z²). It stays inside [0, 1] and is honest at k = 0 or n
  (the normal interval is not). Equals statsmodels' ``proportion_confint(method="wilson")``.
- :func:`brier` — mean (p − y)² of the stated confidence p = confidence/100 against the
  outcome y ∈ {0, 1} (0 is perfect, 0.25 is always saying 50 %).
- :func:`ece` — expected calibration error: the decisions binned by p into ``bins`` equal
  bins; Σ (n_b / N)·|mean y_b − mean p_b|.
- :func:`bootstrap_ci` — a percentile bootstrap interval of either (resampling decisions
  with replacement, ``n_boot`` times, a seeded generator: the same inputs give the same
  interval).
- :func:`paired_test` — is arm A right more often than arm B *on the same decisions*? Only
  the discordant pairs carry information: b = A right and B wrong, c = B right and A wrong;
  the exact McNemar test is the binomial sign test of b successes in b + c trials at
  p = ½ (``scipy.stats.binomtest``), one-sided (A better) by default.

Every result below :data:`SMALL_SAMPLE` decisions carries ``small_sample: true`` and a note.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

#: fewer scored decisions than this: the result says its sample is small
SMALL_SAMPLE = 30
#: two-sided 95 %: the normal quantile 0.975
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``k`` successes in ``n`` trials (None when n = 0)."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"wilson: successes {k} must lie between 0 and the trials {n}")
    z2 = z * z
    centre = (k + z2 / 2.0) / (n + z2)
    half = z * math.sqrt(k * (n - k) / n + z2 / 4.0) / (n + z2)
    return max(0.0, centre - half), min(1.0, centre + half)


def _arrays(probs: Sequence[float], outcomes: Sequence[bool | int]
            ) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    if p.shape != y.shape:
        raise ValueError(f"{p.size} probabilities but {y.size} outcomes; give one each")
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1):
        raise ValueError("probabilities must lie in [0, 1] (confidence / 100)")
    return p, y


def brier(probs: Sequence[float], outcomes: Sequence[bool | int]) -> float | None:
    """Mean squared error of the probabilities (None without decisions)."""
    p, y = _arrays(probs, outcomes)
    return float(np.mean((p - y) ** 2)) if p.size else None


def ece(probs: Sequence[float], outcomes: Sequence[bool | int], bins: int = 10
        ) -> float | None:
    """Expected calibration error over ``bins`` equal-width bins of p (the last bin holds
    p = 1); None without decisions."""
    p, y = _arrays(probs, outcomes)
    if not p.size:
        return None
    idx = np.minimum((p * bins).astype(int), bins - 1)
    # (n_b / N)·|mean y_b − mean p_b| = |Σ_b y − Σ_b p| / N
    sum_y = np.bincount(idx, weights=y, minlength=bins)
    sum_p = np.bincount(idx, weights=p, minlength=bins)
    return float(np.abs(sum_y - sum_p).sum() / p.size)


def bootstrap_ci(stat: Callable[[np.ndarray, np.ndarray], float | None],
                 probs: Sequence[float], outcomes: Sequence[bool | int], *,
                 n_boot: int = 1000, seed: int = 0, level: float = 0.95
                 ) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``stat(p, y)`` (None with fewer than 2 decisions)."""
    p, y = _arrays(probs, outcomes)
    if p.size < 2:
        return None
    rng = np.random.default_rng(seed)
    vals = np.empty(n_boot)
    for b in range(n_boot):  # one resample at a time: memory O(n), not O(n_boot · n)
        i = rng.integers(0, p.size, size=p.size)
        vals[b] = stat(p[i], y[i])
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(vals, [a, 1.0 - a])
    return float(lo), float(hi)


def _note(n: int, what: str = "decisions") -> str | None:
    if n >= SMALL_SAMPLE:
        return None
    return (f"small sample: {n} scored {what} (fewer than {SMALL_SAMPLE}); the intervals "
            "are wide and a difference is weak evidence")


def proportion(k: int, n: int) -> dict[str, Any]:
    """``{"k", "n", "rate", "ci", "small_sample", "note"}`` of one proportion."""
    ci = wilson(k, n)
    return {"k": k, "n": n, "rate": (k / n) if n else None,
            "ci": list(ci) if ci else None, "small_sample": n < SMALL_SAMPLE,
            "note": _note(n)}


def calibration(confidences: Sequence[float], correct: Sequence[bool], *, seed: int = 0,
                n_boot: int = 1000, bins: int = 10) -> dict[str, Any]:
    """Brier score and ECE of confidences (0–100) against correctness, with bootstrap
    intervals (seeded)."""
    p = [c / 100.0 for c in confidences]
    y = [bool(c) for c in correct]
    n = len(p)
    return {
        "n": n,
        "brier": brier(p, y),
        "brier_ci": _list(bootstrap_ci(brier, p, y, n_boot=n_boot, seed=seed)),
        "ece": ece(p, y, bins),
        "ece_ci": _list(bootstrap_ci(lambda a, b: ece(a, b, bins), p, y, n_boot=n_boot,
                                     seed=seed)),
        "seed": seed, "n_boot": n_boot, "small_sample": n < SMALL_SAMPLE, "note": _note(n),
    }


def _list(ci: tuple[float, float] | None) -> list[float] | None:
    return list(ci) if ci else None


def paired_test(a_correct: Sequence[bool], b_correct: Sequence[bool], *,
                alternative: str = "greater") -> dict[str, Any]:
    """Exact McNemar (sign) test that arm A is right more often than arm B on the same
    decisions: ``{"n", "a_only", "b_only", "a_rate", "b_rate", "p_value", "test",
    "small_sample", "note"}`` (``p_value`` None when no pair is discordant)."""
    if len(a_correct) != len(b_correct):
        raise ValueError(f"paired test: {len(a_correct)} and {len(b_correct)} outcomes; "
                         "pair the same decisions")
    pairs = [(bool(a), bool(b)) for a, b in zip(a_correct, b_correct, strict=True)]
    n = len(pairs)
    a_only = sum(1 for a, b in pairs if a and not b)
    b_only = sum(1 for a, b in pairs if b and not a)
    disc = a_only + b_only
    p_value = (float(stats.binomtest(a_only, disc, 0.5, alternative=alternative).pvalue)
               if disc else None)
    note = _note(n, "pairs")
    if disc == 0 and n:
        note = "no discordant pairs: the two arms were right on exactly the same decisions"
    return {"n": n, "a_only": a_only, "b_only": b_only,
            "a_rate": (sum(a for a, _ in pairs) / n) if n else None,
            "b_rate": (sum(b for _, b in pairs) / n) if n else None,
            "p_value": p_value, "alternative": alternative,
            "test": "exact McNemar (binomial sign test on the discordant pairs)",
            "small_sample": n < SMALL_SAMPLE, "note": note}


__all__ = ["SMALL_SAMPLE", "Z95", "bootstrap_ci", "brier", "calibration", "ece",
           "paired_test", "proportion", "wilson"]
