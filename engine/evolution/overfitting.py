"""Overfitting checks: the deflated Sharpe ratio and the in-sample/out-of-sample gap.

**Deflated Sharpe ratio** (Bailey & López de Prado, 2014, "The Deflated Sharpe Ratio"):
an evolution run tries many genomes and keeps the best, so the best in-sample Sharpe is
inflated by selection. With per-bar (non-annualised) Sharpe ratios:

- N = every evaluation of the run (each backtest is a trial);
- V = variance of the in-sample Sharpe ratios of all evaluated genomes;
- expected maximum Sharpe of N unskilled trials::

      SR0 = sqrt(V) · ((1 − γ) · Φ⁻¹(1 − 1/N) + γ · Φ⁻¹(1 − 1/(N·e)))     (γ = 0.5772…)

- the probabilistic Sharpe ratio of the observed SR against SR0, over T per-bar returns
  with skewness g3 and (non-excess) kurtosis g4::

      DSR = Φ( (SR − SR0) · sqrt(T − 1) / sqrt(1 − g3·SR + (g4 − 1)/4 · SR²) )

DSR is the probability that the genome's true Sharpe ratio is above what luck alone would
give the best of N trials. ``psr`` is the same formula against 0 (no deflation).

:func:`deflated_sharpe_from_moments` computes SR0 and DSR from the summary statistics alone
(checked against the paper's numerical example); :func:`assess` feeds it the moments of a
genome's in-sample returns (:func:`return_moments`) and the variance of the run's trials.

**Verdict** (``verdict``): ``"likely overfit"`` when DSR < 0.5, or the in-sample Sharpe is
positive but the out-of-sample one is not; ``"possibly overfit"`` when DSR < 0.95 or the
Sharpe gap (in-sample − out-of-sample, annualised) exceeds 1.0; ``"robust"`` otherwise;
``"no out-of-sample data"`` is appended as a caveat when the run has no hold-out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine.errors import ParameterError

EULER_GAMMA = 0.5772156649015329


@dataclass
class OverfittingReport:
    """The overfitting evidence for one individual."""

    deflated_sharpe: float | None  # DSR: a probability in [0, 1]
    probabilistic_sharpe: float | None  # PSR against 0
    expected_max_sharpe: float | None  # SR0, annualised
    n_trials: int
    sharpe_in_sample: float | None
    sharpe_out_of_sample: float | None
    sharpe_gap: float | None
    verdict: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _phi_inv(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))


@dataclass(frozen=True)
class DeflatedSharpe:
    """SR0 and DSR of one observed Sharpe ratio, in per-bar units."""

    expected_max_sharpe: float  # SR0 per bar: the best Sharpe luck alone gives N trials
    deflated_sharpe: float | None  # DSR in [0, 1]; None when the moments admit no test


def _expected_max_from_variance(variance_per_bar: float, n_trials: int) -> float:
    if n_trials < 2 or not math.isfinite(variance_per_bar) or variance_per_bar <= 0:
        return 0.0
    return math.sqrt(variance_per_bar) * (
        (1 - EULER_GAMMA) * _phi_inv(1 - 1.0 / n_trials)
        + EULER_GAMMA * _phi_inv(1 - 1.0 / (n_trials * math.e)))


def probabilistic_sharpe_from_moments(sharpe_per_bar: float, n_obs: int, skew: float,
                                      kurtosis: float, benchmark_per_bar: float
                                      ) -> float | None:
    """PSR of a per-bar Sharpe ratio over ``n_obs`` returns with the given skewness and
    (non-excess) kurtosis against a per-bar benchmark; None below 3 returns or when the
    variance term ``1 − g3·SR + (g4 − 1)/4·SR²`` is not positive."""
    if n_obs < 3 or not all(math.isfinite(x) for x in (sharpe_per_bar, skew, kurtosis)):
        return None
    denom = 1 - skew * sharpe_per_bar + (kurtosis - 1) / 4.0 * sharpe_per_bar**2
    if denom <= 0:
        return None
    return _phi((sharpe_per_bar - benchmark_per_bar) * math.sqrt(n_obs - 1) / math.sqrt(denom))


def deflated_sharpe_from_moments(sharpe: float, n_obs: int, skew: float, kurtosis: float,
                                 n_trials: int, trials_sharpe_variance: float,
                                 periods_per_year: float = 1.0) -> DeflatedSharpe:
    """SR0 and DSR from summary statistics alone (module docstring for the formulas).

    ``sharpe`` and ``trials_sharpe_variance`` are in the units of ``periods_per_year``:
    annualised with e.g. ``periods_per_year=250``, converted here to per bar as
    ``sharpe / sqrt(periods_per_year)`` and ``variance / periods_per_year``; the default 1
    means they are per bar already. ``kurtosis`` is non-excess (3 for a normal
    distribution). The result is always per bar (multiply SR0 by ``sqrt(periods_per_year)``
    to annualise it). Fewer than two trials deflate nothing (SR0 = 0).
    """
    if not periods_per_year > 0:
        raise ParameterError(f"periods_per_year must be positive, got {periods_per_year!r}; "
                             "give 1 for per-bar inputs or e.g. 252 for annualised daily ones")
    if not trials_sharpe_variance >= 0:
        raise ParameterError(f"trials_sharpe_variance must be ≥ 0, got "
                             f"{trials_sharpe_variance!r}; give the variance of the trials' "
                             "Sharpe ratios")
    if n_trials < 1:
        raise ParameterError(f"n_trials must be at least 1, got {n_trials!r}; count every "
                             "evaluated configuration")
    sr = sharpe / math.sqrt(periods_per_year)
    sr0 = _expected_max_from_variance(trials_sharpe_variance / periods_per_year, n_trials)
    return DeflatedSharpe(
        expected_max_sharpe=sr0,
        deflated_sharpe=probabilistic_sharpe_from_moments(sr, n_obs, skew, kurtosis, sr0))


def expected_max_sharpe(trial_sharpes_per_bar: Sequence[float], n_trials: int) -> float:
    """SR0: the expected best per-bar Sharpe of ``n_trials`` unskilled trials."""
    sr = np.asarray([s for s in trial_sharpes_per_bar if s is not None and math.isfinite(s)])
    if sr.size < 2:
        return 0.0
    return _expected_max_from_variance(float(sr.var(ddof=1)), n_trials)


def return_moments(returns: np.ndarray) -> tuple[float, int, float, float] | None:
    """``(per-bar Sharpe, T, skewness, non-excess kurtosis)`` of the finite ``returns``;
    None below 3 returns or for a flat series. Sharpe uses the sample standard deviation,
    the skewness and kurtosis the population moments (as the paper)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 3 or r.std() == 0:
        return None
    z = (r - r.mean()) / r.std()
    return (float(r.mean() / r.std(ddof=1)), int(r.size), float(np.mean(z**3)),
            float(np.mean(z**4)))


def probabilistic_sharpe(returns: np.ndarray, benchmark_per_bar: float) -> float | None:
    """PSR of per-bar ``returns`` against a per-bar benchmark Sharpe."""
    m = return_moments(returns)
    if m is None:
        return None
    return probabilistic_sharpe_from_moments(*m, benchmark_per_bar)


def overfitting_verdict(dsr: float | None, sharpe_is: float | None,
                        sharpe_oos: float | None) -> str:
    """The verdict of the module docstring from a DSR and the two annualised Sharpes."""
    gap = (sharpe_is - sharpe_oos) if sharpe_is is not None and sharpe_oos is not None else None
    if dsr is None:
        return "inconclusive"
    if dsr < 0.5 or (gap is not None and sharpe_is > 0 >= sharpe_oos):
        return "likely overfit"
    if dsr < 0.95 or (gap is not None and gap > 1.0):
        return "possibly overfit"
    return "robust"


def assess(returns: np.ndarray, trial_sharpes_annual: Sequence[float], n_trials: int,
           periods_per_year: float, sharpe_is: float | None, sharpe_oos: float | None
           ) -> OverfittingReport:
    """Deflated Sharpe ratio, IS–OOS gap and a verdict (module docstring)."""
    root = math.sqrt(periods_per_year) if periods_per_year > 0 else 1.0
    per_bar = np.asarray([s / root for s in trial_sharpes_annual
                          if s is not None and math.isfinite(s)])
    variance = float(per_bar.var(ddof=1)) if per_bar.size >= 2 else 0.0
    moments = return_moments(returns)
    if moments is None:
        sr0 = _expected_max_from_variance(variance, n_trials)
        dsr = psr = None
    else:
        sr, t, g3, g4 = moments
        deflated = deflated_sharpe_from_moments(sr, t, g3, g4, max(n_trials, 1), variance)
        sr0, dsr = deflated.expected_max_sharpe, deflated.deflated_sharpe
        psr = probabilistic_sharpe_from_moments(sr, t, g3, g4, 0.0)
    gap = (sharpe_is - sharpe_oos) if sharpe_is is not None and sharpe_oos is not None else None
    verdict = overfitting_verdict(dsr, sharpe_is, sharpe_oos)
    reasons = []
    if dsr is None:
        reasons.append("too few returns or a flat equity curve for a Sharpe test")
    else:
        reasons.append(f"DSR {dsr:.2f} after {n_trials} trials (expected best Sharpe of luck "
                       f"{sr0 * root:.2f})")
    if gap is not None:
        reasons.append(f"Sharpe in-sample {sharpe_is:.2f} vs out-of-sample {sharpe_oos:.2f}")
    else:
        reasons.append("no out-of-sample data")
    return OverfittingReport(
        deflated_sharpe=dsr, probabilistic_sharpe=psr, expected_max_sharpe=sr0 * root,
        n_trials=n_trials, sharpe_in_sample=sharpe_is, sharpe_out_of_sample=sharpe_oos,
        sharpe_gap=gap, verdict=verdict, reason="; ".join(reasons),
    )
