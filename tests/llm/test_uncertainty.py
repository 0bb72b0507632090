"""Intervals and paired tests of engine.llm.uncertainty against scipy, statsmodels and
hand arithmetic."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from engine.llm.uncertainty import (
    SMALL_SAMPLE,
    bootstrap_ci,
    brier,
    calibration,
    ece,
    paired_test,
    proportion,
    wilson,
)


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (57, 100), (1, 1), (412, 1000)])
def test_wilson_matches_scipy_and_statsmodels(k, n):
    lo, hi = wilson(k, n)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert (lo, hi) == (pytest.approx(ci.low, abs=1e-12), pytest.approx(ci.high, abs=1e-12))
    sm = pytest.importorskip("statsmodels.stats.proportion")
    slo, shi = sm.proportion_confint(k, n, alpha=0.05, method="wilson")
    assert (lo, hi) == (pytest.approx(slo, abs=1e-9), pytest.approx(shi, abs=1e-9))


def test_wilson_by_hand_and_its_edges():
    # k = 3, n = 10, z = 1.96 (z² = 3.8416): centre (3 + 1.9208)/13.8416 = 0.35551;
    # half-width 1.96·sqrt(3·7/10 + 0.9604)/13.8416 = 1.96·1.74940/13.8416 = 0.24772
    # → (0.10779, 0.60323)
    lo, hi = wilson(3, 10, z=1.96)
    assert lo == pytest.approx(0.10779, abs=5e-5) and hi == pytest.approx(0.60323, abs=5e-5)
    assert wilson(0, 0) is None
    with pytest.raises(ValueError, match=r"successes 11 must lie between 0 and the trials 10"):
        wilson(11, 10)


def test_the_sign_test_by_hand_and_against_statsmodels_mcnemar():
    # A right and B wrong on 7 decisions, the other way round on 1, 12 ties:
    # P(X ≥ 7 | n = 8, ½) = (C(8,7) + C(8,8)) / 2⁸ = 9/256
    a = [True] * 7 + [False] + [True] * 6 + [False] * 6
    b = [False] * 7 + [True] + [True] * 6 + [False] * 6
    t = paired_test(a, b)
    assert (t["n"], t["a_only"], t["b_only"]) == (20, 7, 1)
    assert t["p_value"] == pytest.approx(9 / 256, abs=1e-15)
    assert t["p_value"] == pytest.approx(stats.binomtest(7, 8, 0.5, alternative="greater").pvalue)
    two = paired_test(a, b, alternative="two-sided")
    assert two["p_value"] == pytest.approx(18 / 256)
    tables = pytest.importorskip("statsmodels.stats.contingency_tables")
    # the 2×2 table of (A right?, B right?): [[both, A only], [B only, neither]]
    res = tables.mcnemar([[6, 7], [1, 6]], exact=True)
    assert two["p_value"] == pytest.approx(res.pvalue, abs=1e-12)
    assert t["small_sample"] is True and "small sample: 20 scored pairs" in t["note"]


def test_no_discordant_pairs_has_no_p_value_and_says_why():
    t = paired_test([True, False], [True, False])
    assert t["p_value"] is None and "no discordant pairs" in t["note"]
    with pytest.raises(ValueError, match=r"paired test: 2 and 1 outcomes; pair the same"):
        paired_test([True, False], [True])


def test_brier_and_ece_by_hand():
    p, y = [0.8, 0.6, 0.5], [1, 0, 1]
    # Brier: (0.2² + 0.6² + 0.5²)/3 = 0.65/3
    assert brier(p, y) == pytest.approx(0.65 / 3)
    # ECE, 10 bins: each decision alone in its bin, weight 1/3: (0.2 + 0.6 + 0.5)/3
    assert ece(p, y) == pytest.approx(1.3 / 3)
    # two bins: [0, .5) empty, [.5, 1] holds all: |2/3 − 1.9/3| = 0.1/3
    assert ece(p, y, bins=2) == pytest.approx(0.1 / 3)
    assert ece([1.0, 1.0], [1, 1]) == 0.0  # p = 1 falls in the last bin
    assert brier([], []) is None and ece([], []) is None
    with pytest.raises(ValueError, match=r"probabilities must lie in \[0, 1\]"):
        brier([70.0], [1])
    with pytest.raises(ValueError, match=r"2 probabilities but 1 outcomes"):
        ece([0.5, 0.6], [1])


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    p = [0.5 + 0.04 * (i % 10) for i in range(60)]
    y = [(i * 7) % 3 != 0 for i in range(60)]
    one = bootstrap_ci(brier, p, y, seed=3)
    assert one == bootstrap_ci(brier, p, y, seed=3)  # the same seed, the same interval
    assert one != bootstrap_ci(brier, p, y, seed=4)
    assert one[0] <= brier(p, y) <= one[1]
    # a bigger sample of the same kind gives a narrower interval
    wide = bootstrap_ci(brier, p[:12], y[:12], seed=3)
    assert (one[1] - one[0]) < (wide[1] - wide[0])
    assert bootstrap_ci(brier, [0.5], [1]) is None


def test_calibration_and_proportion_say_a_small_sample_is_small():
    c = calibration([70, 60, 80], [True, False, True], seed=1)
    assert c["n"] == 3 and c["small_sample"] is True and "small sample" in c["note"]
    assert c["brier"] == pytest.approx((0.3**2 + 0.6**2 + 0.2**2) / 3)
    assert c["brier_ci"][0] <= c["brier_ci"][1]
    big = proportion(60, SMALL_SAMPLE * 4)
    assert big["small_sample"] is False and big["note"] is None
    assert big["rate"] == 0.5 and math.isclose(sum(big["ci"]) / 2, 0.5, abs_tol=1e-12)
