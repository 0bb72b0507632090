"""CSCV probability of backtest overfitting: hand-counted cases, a brute-force reference and
properties (Bailey, Borwein, López de Prado & Zhu 2017)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from engine.errors import ParameterError
from engine.research import pbo
from engine.research.pbo import cscv_splits


def test_hand_counted_four_blocks_three_strategies():
    """S = 4 blocks of one bar, metric = mean, columns A, B, C::

        block   A  B  C
          0     1  0  2
          1     1  2  0
          2     1  0  0
          3     1  0  0

    C(4, 2) = 6 splits (IS blocks → IS means → n* (first on a tie) → OOS means → rank of n*
    among 3 (average on ties) → ω = rank/4 → λ = ln(ω/(1 − ω))):

      {0,1}: A 1, B 1, C 1 → A; OOS {2,3}: A 1, B 0, C 0 → rank 3   → ω .75  → λ = ln 3
      {0,2}: A 1, B 0, C 1 → A; OOS {1,3}: A 1, B 1, C 0 → rank 2.5 → ω .625 → λ = ln 5/3
      {0,3}: A 1, B 0, C 1 → A; OOS {1,2}: A 1, B 1, C 0 → rank 2.5 → λ = ln 5/3
      {1,2}: A 1, B 1, C 0 → A; OOS {0,3}: A 1, B 0, C 1 → rank 2.5 → λ = ln 5/3
      {1,3}: A 1, B 1, C 0 → A; OOS {0,2}: A 1, B 0, C 1 → rank 2.5 → λ = ln 5/3
      {2,3}: A 1, B 0, C 0 → A; OOS {0,1}: A 1, B 1, C 1 → rank 2   → ω .5   → λ = 0

    One λ ≤ 0 of 6 → PBO = 1/6. n*'s OOS mean is 1 in every split → probability of loss 0;
    its IS mean is always 1, so there is no degradation slope to fit (None).
    """
    m = np.array([[1, 0, 2], [1, 2, 0], [1, 0, 0], [1, 0, 0]], float)
    r = pbo(m, 4, metric="mean")
    assert r.n_splits == 6 and r.block_bars == 1 and r.n_trials == 3
    assert r.pbo == pytest.approx(1 / 6)
    np.testing.assert_allclose(r.logits, [math.log(3)] + [math.log(5 / 3)] * 4 + [0.0],
                               atol=1e-12)
    assert r.probability_of_loss == 0.0 and r.degradation_slope is None


def test_hand_counted_degradation_slope_and_probability_of_loss():
    """S = 2 blocks, columns A, B: block 0 = (3, 1), block 1 = (−1, 2).

      IS {0}: A 3 > B 1 → A; OOS: A −1 < B 2 → rank 1 of 2 → ω 1/3 → λ = ln ½
      IS {1}: B 2 > A −1 → B; OOS: B 1 < A 3 → rank 1      → λ = ln ½
    PBO = 2/2 = 1. (IS, OOS) of n*: (3, −1) and (2, 1) → slope (−1 − 1)/(3 − 2) = −2,
    intercept 1 + 2·2 = 5; one OOS loss of two → probability of loss ½.
    """
    r = pbo(np.array([[3.0, 1.0], [-1.0, 2.0]]), 2, metric="mean")
    assert r.pbo == 1.0 and r.n_splits == 2
    np.testing.assert_allclose(r.logits, [math.log(0.5)] * 2)
    assert r.degradation_slope == pytest.approx(-2.0)
    assert r.degradation_intercept == pytest.approx(5.0)
    assert r.probability_of_loss == 0.5


def _reference(m: np.ndarray, s: int) -> tuple[float, np.ndarray]:
    """CSCV written out plainly (numpy Sharpe per split, scipy average ranks)."""
    t, n = m.shape
    size = t // s
    blocks = np.split(m[t - size * s:], s)
    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        is_ = np.vstack([blocks[b] for b in combo])
        oos = np.vstack([blocks[b] for b in range(s) if b not in combo])
        sr_is = is_.mean(0) / is_.std(0, ddof=1)
        sr_oos = oos.mean(0) / oos.std(0, ddof=1)
        best = int(np.argmax(sr_is))
        w = rankdata(sr_oos)[best] / (n + 1)
        logits.append(math.log(w / (1 - w)))
    lam = np.array(logits)
    return float(np.mean(lam <= 0)), lam


@pytest.mark.parametrize("s", [2, 6, 8])
def test_sharpe_pbo_equals_the_plain_reference(s):
    rng = np.random.default_rng(s)
    m = rng.normal(0.0, 0.01, (403, 12)) + rng.normal(0, 0.002, 12)  # 403: a remainder
    r = pbo(m, s)
    ref_pbo, ref_logits = _reference(m, s)
    assert r.n_splits == math.comb(s, s // 2) and r.block_bars == 403 // s
    assert r.pbo == ref_pbo
    np.testing.assert_allclose(r.logits, ref_logits, rtol=1e-9, atol=1e-9)


def test_sixteen_blocks_give_12870_splits():
    assert cscv_splits(16).shape == (12_870, 8)
    r = pbo(np.random.default_rng(1).normal(0, 0.01, (64, 5)), 16, metric="mean")
    assert r.n_splits == 12_870 and r.block_bars == 4


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 8), s=st.sampled_from([2, 4, 6, 8]), seed=st.integers(0, 10_000))
def test_identical_strategies_always_rank_at_the_median(n, s, seed):
    """N copies of one strategy: n* is a copy, tied with all N out of sample → average rank
    (N + 1)/2, ω = ½, λ = 0 in every split → PBO 1 by the λ ≤ 0 rule, and the probability
    of loss is the share of splits where that one strategy lost out of sample."""
    col = np.random.default_rng(seed).normal(0.0005, 0.01, (s * 5, 1))
    r = pbo(np.repeat(col, n, axis=1), s)
    assert np.all(r.logits == 0.0) and r.pbo == 1.0
    assert r.probability_of_loss == float(np.mean(r.out_of_sample_best < 0))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 8), s=st.sampled_from([2, 4, 6, 8, 10]), seed=st.integers(0, 10_000))
def test_a_dominant_strategy_is_never_overfit_whatever_the_blocks(n, s, seed):
    """A column above every other on every bar is the best in and out of sample in every
    split: rank N, λ = ln N > 0 → PBO 0 for any number of blocks."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0, 0.01, (s * 3, n))
    m[:, 0] = m[:, 1:].max(axis=1) + 0.01
    r = pbo(m, s, metric="mean")
    assert r.pbo == 0.0 and r.n_splits == math.comb(s, s // 2)
    np.testing.assert_allclose(r.logits, math.log(n))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), s=st.sampled_from([4, 6, 8]))
def test_the_order_of_the_strategies_does_not_matter(seed, s):
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0, 0.01, (s * 10, 7))
    perm = rng.permutation(7)
    a, b = pbo(m, s), pbo(m[:, perm], s)
    assert a.pbo == b.pbo and 0.0 <= a.pbo <= 1.0
    np.testing.assert_allclose(a.logits, b.logits)


@pytest.mark.parametrize(("kw", "match"), [
    ({"n_blocks": 5}, "even number of blocks ≥ 2, got 5; 16 is the paper's choice"),
    ({"n_blocks": 16}, "20 bars cut into 16 blocks leave 1 bar"),
    ({"metric": "sortino"}, "unknown PBO metric 'sortino'; choose one of sharpe, mean"),
])
def test_bad_options_are_refused_with_the_fix(kw, match):
    with pytest.raises(ParameterError, match=match):
        pbo(np.zeros((20, 3)), **kw)


def test_one_trial_or_nan_is_refused():
    with pytest.raises(ParameterError, match="at least 2 trials, got 1"):
        pbo(np.zeros((40, 1)), 4)
    m = np.zeros((40, 2))
    m[3, 1] = np.nan
    with pytest.raises(ParameterError, match="NaN or infinite values"):
        pbo(m, 4)
