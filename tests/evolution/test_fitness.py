"""Every built-in fitness function on crafted metric dicts, worked by hand.

The formulas (engine/evolution/fitness.py):
    P (sharpe_penalized) = sharpe − max(0, −max_drawdown_pct − 20)/20 − max(0, 10 − n_trades)/10
    sharpe_score         = tanh(P / 2)
    sharpe               = sharpe
    total_return         = total_return_pct / 100
    calmar, sortino      = the metric itself
A missing, None or non-finite metric counts as 0.
"""

from __future__ import annotations

import math

import pytest

from engine.errors import ParameterError
from engine.evolution.fitness import (
    INVALID_FITNESS,
    fitness_names,
    get_fitness,
    objective_values,
    register_fitness,
    score,
)

BUILT_INS = ["sharpe_score", "sharpe_penalized", "sharpe", "total_return", "calmar",
             "sortino"]
NAN, INF = float("nan"), float("inf")

SCENARIOS = {
    # sharpe 1.8; drawdown 15 % is within 20 % → 0; 25 trades ≥ 10 → 0; P = 1.8
    # score tanh(0.9) = 0.716298
    "good": ({"sharpe": 1.8, "max_drawdown_pct": -15.0, "n_trades": 25,
              "total_return_pct": 42.0, "calmar": 2.1, "sortino": 2.6},
             {"sharpe_penalized": 1.8, "sharpe_score": 0.716298, "sharpe": 1.8,
              "total_return": 0.42, "calmar": 2.1, "sortino": 2.6}),
    # drawdown 50 %: (50 − 20)/20 = 1.5 off; 12 trades → 0; P = 1.2 − 1.5 = −0.3
    # score tanh(−0.15) = −0.148885
    "deep drawdown": ({"sharpe": 1.2, "max_drawdown_pct": -50.0, "n_trades": 12,
                       "total_return_pct": 8.0, "calmar": 0.3, "sortino": 1.5},
                      {"sharpe_penalized": -0.3, "sharpe_score": -0.148885, "sharpe": 1.2,
                       "total_return": 0.08, "calmar": 0.3, "sortino": 1.5}),
    # 4 trades: (10 − 4)/10 = 0.6 off; drawdown 10 % → 0; P = 0.9 − 0.6 = 0.3
    # score tanh(0.15) = 0.148885
    "few trades": ({"sharpe": 0.9, "max_drawdown_pct": -10.0, "n_trades": 4,
                    "total_return_pct": 5.0, "calmar": 0.8, "sortino": 1.1},
                   {"sharpe_penalized": 0.3, "sharpe_score": 0.148885, "sharpe": 0.9,
                    "total_return": 0.05, "calmar": 0.8, "sortino": 1.1}),
    # negative returns: drawdown 35 % → 15/20 = 0.75 off; 30 trades → 0;
    # P = −0.7 − 0.75 = −1.45; score tanh(−0.725) = −0.619997
    "losing": ({"sharpe": -0.7, "max_drawdown_pct": -35.0, "n_trades": 30,
                "total_return_pct": -23.5, "calmar": -0.4, "sortino": -0.9},
               {"sharpe_penalized": -1.45, "sharpe_score": -0.619997, "sharpe": -0.7,
                "total_return": -0.235, "calmar": -0.4, "sortino": -0.9}),
    # no trades, flat equity: the Sharpe/Sortino/Calmar of a flat curve are NaN → 0;
    # P = 0 − 0 − (10 − 0)/10 = −1; score tanh(−0.5) = −0.462117
    "no trades": ({"sharpe": NAN, "max_drawdown_pct": 0.0, "n_trades": 0,
                   "total_return_pct": 0.0, "calmar": NAN, "sortino": NAN},
                  {"sharpe_penalized": -1.0, "sharpe_score": -0.462117, "sharpe": 0.0,
                   "total_return": 0.0, "calmar": 0.0, "sortino": 0.0}),
    # None everywhere counts as 0: P = 0 − 0 − 1 = −1 (as no trades)
    "all None": ({"sharpe": None, "max_drawdown_pct": None, "n_trades": None,
                  "total_return_pct": None, "calmar": None, "sortino": None},
                 {"sharpe_penalized": -1.0, "sharpe_score": -0.462117, "sharpe": 0.0,
                  "total_return": 0.0, "calmar": 0.0, "sortino": 0.0}),
    # missing keys count as 0 too
    "empty": ({}, {"sharpe_penalized": -1.0, "sharpe_score": -0.462117, "sharpe": 0.0,
                   "total_return": 0.0, "calmar": 0.0, "sortino": 0.0}),
    # infinite Sortino (no losing bar) and Calmar (no drawdown) count as 0;
    # sharpe 2.0, drawdown 0, 10 trades → P = 2.0; score tanh(1.0) = 0.761594
    "infinite ratios": ({"sharpe": 2.0, "max_drawdown_pct": 0.0, "n_trades": 10,
                         "total_return_pct": 12.0, "calmar": INF, "sortino": INF},
                        {"sharpe_penalized": 2.0, "sharpe_score": 0.761594, "sharpe": 2.0,
                         "total_return": 0.12, "calmar": 0.0, "sortino": 0.0}),
}


@pytest.mark.parametrize("case", list(SCENARIOS))
@pytest.mark.parametrize("name", BUILT_INS)
def test_built_in_fitness(case, name):
    metrics, expected = SCENARIOS[case]
    got = get_fitness(name)(metrics)
    assert got == pytest.approx(expected[name], abs=1e-6)
    assert score(get_fitness(name), metrics) == pytest.approx(expected[name], abs=1e-6)


def test_every_built_in_has_a_scenario_and_is_listed_first():
    assert fitness_names()[:len(BUILT_INS)] == BUILT_INS
    for _, expected in SCENARIOS.values():
        assert set(expected) == set(BUILT_INS)


def test_threshold_0_8_means_penalised_sharpe_about_2_2():
    # the docstring's reading of FITNESS_THRESHOLD 0.8: tanh(P/2) ≥ 0.8 ⇔ P ≥ 2·atanh(0.8)
    # = 2.197; P = 2.2 → tanh(1.1) = 0.800499, P = 2.19 → tanh(1.095) = 0.798696
    base = {"max_drawdown_pct": -5.0, "n_trades": 20}
    assert get_fitness("sharpe_score")({**base, "sharpe": 2.2}) == pytest.approx(0.800499,
                                                                                abs=1e-6)
    assert get_fitness("sharpe_score")({**base, "sharpe": 2.19}) < 0.8


def test_score_turns_non_finite_and_broken_results_into_invalid():
    assert score(lambda m: NAN, {}) == INVALID_FITNESS
    assert score(lambda m: -INF, {}) == INVALID_FITNESS
    assert score(lambda m: None, {}) == INVALID_FITNESS  # float(None) is a TypeError
    assert score(lambda m: "high", {}) == INVALID_FITNESS  # float("high") is a ValueError
    assert score(lambda m: 3, {}) == 3.0


def test_objective_values_keep_signs_and_invalidate_missing():
    m = {"total_return_pct": 12.5, "max_drawdown_pct": -30.0, "sharpe": NAN}
    assert objective_values(m, ["total_return_pct", "max_drawdown_pct", "sharpe", "calmar"]) \
        == (12.5, -30.0, INVALID_FITNESS, INVALID_FITNESS)


def test_lookup_and_registration_errors_name_the_fix():
    with pytest.raises(ParameterError, match="unknown fitness 'nope'; choose one of "
                                             "sharpe_score"):
        get_fitness("nope")
    with pytest.raises(ParameterError, match="cannot be imported"):
        get_fitness("engine.evolution.fitness:no_such_function")
    with pytest.raises(ParameterError, match="is not callable"):
        get_fitness("engine.evolution.fitness:INVALID_FITNESS")
    assert get_fitness("math:fabs") is math.fabs
    with pytest.raises(ParameterError, match="must be non-empty and contain no ':'"):
        register_fitness("a:b", lambda m: 0.0)
    with pytest.raises(ParameterError, match="must be callable"):
        register_fitness("not-callable", 1.0)
