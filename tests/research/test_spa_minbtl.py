"""SPA and StepM are arch's, called correctly; MinBTL against the paper's two figures."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import SPA, StepM

from engine.errors import ParameterError
from engine.research import (
    min_backtest_check,
    min_backtest_years,
    spa_test,
    stepm_test,
)


@pytest.fixture
def returns():
    """Five strategies over 400 bars; number 3 earns 0.3 % a bar more than the benchmark."""
    rng = np.random.default_rng(42)
    bench = rng.normal(0.0003, 0.01, 400)
    models = rng.normal(0.0, 0.01, (400, 5))
    models[:, 3] += 0.003
    return models, bench


def test_spa_p_values_equal_arch_on_the_losses(returns):
    models, bench = returns
    got = spa_test(models, bench, reps=500, seed=9, labels=list("abcde"))
    # arch works on losses: minus the returns, lower is better
    ref = SPA(-bench, -models, reps=500, bootstrap="stationary", seed=9)
    ref.compute()
    assert (got.lower, got.consistent, got.upper) == (
        ref.pvalues["lower"], ref.pvalues["consistent"], ref.pvalues["upper"])
    assert got.block_size == ref.block_size and got.n_models == 5 and got.labels == list("abcde")
    assert got.consistent < 0.05  # strategy 3 does beat the benchmark
    again = spa_test(models, bench, reps=500, seed=9)
    assert again.consistent == got.consistent  # the seed makes it reproducible


def test_spa_of_one_column_and_a_chosen_block_size(returns):
    models, bench = returns
    got = spa_test(models[:, 0], bench, reps=300, seed=1, block_size=7)
    ref = SPA(-bench, -models[:, [0]], reps=300, block_size=7, bootstrap="stationary", seed=1)
    ref.compute()
    assert got.consistent == ref.pvalues["consistent"] and got.block_size == 7
    assert got.consistent > 0.05  # pure noise does not beat buy-and-hold


def test_stepm_superior_set_equals_arch(returns):
    models, bench = returns
    got = stepm_test(models, bench, reps=500, seed=3, labels=[10, 11, 12, 13, 14])
    ref = StepM(-bench, -models, size=0.05, reps=500, bootstrap="stationary", seed=3)
    ref.compute()
    assert got.superior == [10 + int(i) for i in ref.superior_models] == [13]


def test_spa_refuses_mismatched_bars(returns):
    models, bench = returns
    with pytest.raises(ParameterError, match=r"must have one row per bar each"):
        spa_test(models[:-1], bench)
    with pytest.raises(ParameterError, match=r"StepM size must lie in \(0, 1\), got 1.5"):
        stepm_test(models, bench, size=1.5)


def test_min_backtest_length_matches_the_paper():
    """Bailey et al. (2014), "Pseudo-Mathematics and Financial Charlatanism": 7 trials need
    1.92 years and 45 trials 5.0 years before an annualised Sharpe of 1 beats luck.
    By hand for 7: Z⁻¹(6/7) = 1.0676, Z⁻¹(1 − 1/(7e)) = Z⁻¹(0.94745) = 1.6211;
    0.42278·1.0676 + 0.57722·1.6211 = 1.3871; 1.3871² = 1.924."""
    assert round(min_backtest_years(7), 2) == 1.92
    assert round(min_backtest_years(45), 1) == 5.0
    assert min_backtest_years(1) == 0.0  # no selection, no bias
    assert min_backtest_years(45, target_sharpe=2.0) == pytest.approx(min_backtest_years(45) / 4)


def test_min_backtest_check_warns_when_the_data_are_shorter():
    short = min_backtest_check(45, data_years=3.0)
    assert short.too_short and short.warning == (
        "45 trials need at least 5.00 years of data before an annualised Sharpe of 1 can be "
        "told from luck; the in-sample data cover 3.00 years")
    assert min_backtest_check(7, data_years=2.0).warning is None
    with pytest.raises(ParameterError, match="n_trials must be at least 1, got 0"):
        min_backtest_years(0)
