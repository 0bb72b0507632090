"""The deflated Sharpe ratio against the paper's published example, and every verdict branch.

Bailey & López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for Selection Bias,
Backtest Overfitting and Non-Normality", numerical example: N = 100 trials whose annualised
Sharpe ratios have variance 1/2, the selected strategy's annualised Sharpe is 2.5 over
T = 1,250 daily returns (five years of 250 trading days — the paper's convention) with
skewness −3 and (non-excess) kurtosis 10 → SR0 = 0.1132 per day and DSR = 0.9004.

Annual → per day (250 days a year):
    SR            2.5 / sqrt(250)          = 0.158114
    V[SR_n]       0.5 / 250 = 0.002        → sqrt = 0.0447214
Expected maximum of N = 100 unskilled trials (γ = 0.5772157):
    Φ⁻¹(1 − 1/100)          = Φ⁻¹(0.99)       = 2.326348
    Φ⁻¹(1 − 1/(100·e))      = Φ⁻¹(0.9963212)  = 2.680210
    (1 − γ)·2.326348 + γ·2.680210 = 0.983543 + 1.547059 = 2.530603
    SR0 = 0.0447214 · 2.530603 = 0.113172 per day (1.7894 annualised)
DSR:
    1 − g3·SR + (g4 − 1)/4·SR² = 1 + 3·0.158114 + 2.25·0.025 = 1.530592, sqrt = 1.237171
    z = (0.158114 − 0.113172) · sqrt(1249) / 1.237171 = 0.044942 · 35.341194 / 1.237171
      = 1.283816                                    → Φ(z) = 0.9004
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import stats

from engine.errors import ParameterError
from engine.evolution import DeflatedSharpe, deflated_sharpe_from_moments
from engine.evolution.overfitting import assess, overfitting_verdict

PAPER = dict(sharpe=2.5, n_obs=1250, skew=-3.0, kurtosis=10.0, n_trials=100,
             trials_sharpe_variance=0.5, periods_per_year=250)


def test_paper_numerical_example():
    r = deflated_sharpe_from_moments(**PAPER)
    assert isinstance(r, DeflatedSharpe)
    assert round(r.expected_max_sharpe, 4) == 0.1132  # per day, as published
    assert round(r.deflated_sharpe, 4) == 0.9004
    assert r.expected_max_sharpe * math.sqrt(250) == pytest.approx(1.7894, abs=1e-4)


def test_per_bar_inputs_give_the_same_answer():
    # the same example given per day (periods_per_year=1): SR 0.158114, variance 0.002
    r = deflated_sharpe_from_moments(2.5 / math.sqrt(250), 1250, -3.0, 10.0, 100, 0.5 / 250)
    assert r.expected_max_sharpe == pytest.approx(0.113172, abs=1e-6)
    assert r.deflated_sharpe == pytest.approx(0.900397, abs=1e-6)


def test_one_trial_deflates_nothing():
    # N = 1: SR0 = 0, so DSR = PSR against 0:
    # z = 0.158114 · 35.341194 / 1.237171 = 4.516703 → Φ(z) = 0.999997
    r = deflated_sharpe_from_moments(**{**PAPER, "n_trials": 1})
    assert r.expected_max_sharpe == 0.0
    assert r.deflated_sharpe == pytest.approx(0.999997, abs=1e-6)


def test_no_test_when_the_variance_term_is_not_positive_or_too_few_returns():
    # SR 0.5 per bar, skew 5, kurtosis 3: 1 − 5·0.5 + 0.5·0.25 = −1.375 ≤ 0 → no DSR
    assert deflated_sharpe_from_moments(0.5, 100, 5.0, 3.0, 10, 0.01).deflated_sharpe is None
    assert deflated_sharpe_from_moments(0.1, 2, 0.0, 3.0, 10, 0.01).deflated_sharpe is None


@pytest.mark.parametrize(("change", "match"), [
    ({"periods_per_year": 0}, "periods_per_year must be positive"),
    ({"trials_sharpe_variance": -0.1}, "trials_sharpe_variance must be ≥ 0"),
    ({"n_trials": 0}, "n_trials must be at least 1"),
])
def test_bad_inputs_are_named(change, match):
    with pytest.raises(ParameterError, match=match):
        deflated_sharpe_from_moments(**{**PAPER, **change})


def _dsr(**change) -> float:
    return deflated_sharpe_from_moments(**{**PAPER, **change}).deflated_sharpe


@pytest.mark.parametrize(("dsr_inputs", "dsr_expected", "is_", "oos", "verdict"), [
    # paper example: 0.5 ≤ DSR 0.9004 < 0.95, gap 2.5 − 2.0 = 0.5 ≤ 1 → possibly overfit
    ({}, 0.900397, 2.5, 2.0, "possibly overfit"),
    # one trial: DSR 0.999997 ≥ 0.95, gap 0.5 → robust
    ({"n_trials": 1}, 0.999997, 2.5, 2.0, "robust"),
    # gap exactly 1.0 is not above 1.0 → robust
    ({"n_trials": 1}, 0.999997, 2.5, 1.5, "robust"),
    # DSR 0.999997 but gap 2.5 − 1.4 = 1.1 > 1 → possibly overfit
    ({"n_trials": 1}, 0.999997, 2.5, 1.4, "possibly overfit"),
    # DSR 0.999997 but positive in-sample, negative out-of-sample → likely overfit
    ({"n_trials": 1}, 0.999997, 2.5, -0.3, "likely overfit"),
    # out-of-sample exactly 0 counts as "not positive" → likely overfit
    ({"n_trials": 1}, 0.999997, 2.5, 0.0, "likely overfit"),
    # annual SR 1.5 → 0.094868 per day, below SR0 0.113172:
    # 1 + 3·0.094868 + 2.25·0.009 = 1.304855, sqrt 1.142302;
    # z = (0.094868 − 0.113172) · 35.341194 / 1.142302 = −0.566289 → Φ = 0.285599 < 0.5
    ({"sharpe": 1.5}, 0.285599, 1.5, 1.2, "likely overfit"),
    # SR 0 with one trial: z = 0 → DSR exactly 0.5, not below 0.5 → possibly overfit
    ({"sharpe": 0.0, "n_trials": 1}, 0.5, 0.0, 0.0, "possibly overfit"),
    # no out-of-sample data: only the DSR decides
    ({"n_trials": 1}, 0.999997, 2.5, None, "robust"),
    ({}, 0.900397, 2.5, None, "possibly overfit"),
])
def test_each_verdict_branch(dsr_inputs, dsr_expected, is_, oos, verdict):
    dsr = _dsr(**dsr_inputs)
    assert dsr == pytest.approx(dsr_expected, abs=1e-6)
    assert overfitting_verdict(dsr, is_, oos) == verdict


def test_no_dsr_is_inconclusive():
    assert overfitting_verdict(None, 2.5, 2.0) == "inconclusive"
    assert overfitting_verdict(None, None, None) == "inconclusive"


def test_assess_uses_the_moments_of_the_returns():
    # a skewed, fat-tailed daily series; its moments computed independently with scipy
    rng = np.random.default_rng(5)
    returns = 0.0008 + 0.01 * rng.standard_t(4, size=600) - 0.02 * (rng.random(600) < 0.02)
    sr = returns.mean() / returns.std(ddof=1)
    g3 = stats.skew(returns)  # population skewness (bias=True), as the paper
    g4 = stats.kurtosis(returns, fisher=False)  # non-excess
    trials = [0.2, 1.1, -0.4, 0.9, 1.6, 0.3]  # annualised Sharpe ratios of the trials
    expected = deflated_sharpe_from_moments(sr * math.sqrt(252), 600, g3, g4, 40,
                                            statistics.variance(trials), periods_per_year=252)
    rep = assess(returns, trials, 40, 252, sharpe_is=1.4, sharpe_oos=1.1)
    assert rep.deflated_sharpe == pytest.approx(expected.deflated_sharpe, abs=1e-12)
    assert rep.expected_max_sharpe == pytest.approx(
        expected.expected_max_sharpe * math.sqrt(252), abs=1e-12)
    one = deflated_sharpe_from_moments(sr, 600, g3, g4, 1, 0.0)  # against 0: the PSR
    assert rep.probabilistic_sharpe == pytest.approx(one.deflated_sharpe, abs=1e-12)
    assert rep.verdict == overfitting_verdict(expected.deflated_sharpe, 1.4, 1.1)
    assert rep.sharpe_gap == pytest.approx(0.3)
    assert rep.reason.startswith(f"DSR {expected.deflated_sharpe:.2f} after 40 trials")
    assert rep.reason.endswith("Sharpe in-sample 1.40 vs out-of-sample 1.10")


def test_assess_of_a_flat_curve_is_inconclusive_without_out_of_sample():
    rep = assess(np.zeros(50), [0.5, 1.0], 10, 252, sharpe_is=0.0, sharpe_oos=None)
    assert rep.verdict == "inconclusive" and rep.deflated_sharpe is None
    assert rep.reason == ("too few returns or a flat equity curve for a Sharpe test; "
                          "no out-of-sample data")
