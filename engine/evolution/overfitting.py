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


def expected_max_sharpe(trial_sharpes_per_bar: Sequence[float], n_trials: int) -> float:
    """SR0: the expected best per-bar Sharpe of ``n_trials`` unskilled trials."""
    sr = np.asarray([s for s in trial_sharpes_per_bar if s is not None and math.isfinite(s)])
    if n_trials < 2 or sr.size < 2:
        return 0.0
    sd = float(sr.std(ddof=1))
    return sd * ((1 - EULER_GAMMA) * _phi_inv(1 - 1.0 / n_trials)
                 + EULER_GAMMA * _phi_inv(1 - 1.0 / (n_trials * math.e)))


def probabilistic_sharpe(returns: np.ndarray, benchmark_per_bar: float) -> float | None:
    """PSR of per-bar ``returns`` against a per-bar benchmark Sharpe."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    t = r.size
    if t < 3 or r.std() == 0:
        return None
    sr = r.mean() / r.std(ddof=1)
    z = (r - r.mean()) / r.std()
    g3 = float(np.mean(z**3))
    g4 = float(np.mean(z**4))
    denom = 1 - g3 * sr + (g4 - 1) / 4.0 * sr**2
    if denom <= 0:
        return None
    return _phi((sr - benchmark_per_bar) * math.sqrt(t - 1) / math.sqrt(denom))


def assess(returns: np.ndarray, trial_sharpes_annual: Sequence[float], n_trials: int,
           periods_per_year: float, sharpe_is: float | None, sharpe_oos: float | None
           ) -> OverfittingReport:
    """Deflated Sharpe ratio, IS–OOS gap and a verdict (module docstring)."""
    root = math.sqrt(periods_per_year) if periods_per_year > 0 else 1.0
    per_bar = [s / root for s in trial_sharpes_annual if s is not None and math.isfinite(s)]
    sr0 = expected_max_sharpe(per_bar, n_trials)
    dsr = probabilistic_sharpe(returns, sr0)
    psr = probabilistic_sharpe(returns, 0.0)
    gap = (sharpe_is - sharpe_oos) if sharpe_is is not None and sharpe_oos is not None else None
    reasons = []
    if dsr is None:
        verdict = "inconclusive"
        reasons.append("too few returns or a flat equity curve for a Sharpe test")
    elif dsr < 0.5 or (sharpe_is is not None and sharpe_oos is not None
                       and sharpe_is > 0 >= sharpe_oos):
        verdict = "likely overfit"
    elif dsr < 0.95 or (gap is not None and gap > 1.0):
        verdict = "possibly overfit"
    else:
        verdict = "robust"
    if dsr is not None:
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
