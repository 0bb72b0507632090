"""Parameter importance = |Spearman rho(gene, fitness)| over every evaluated genome once,
checked against ``scipy.stats.spearmanr`` on hand-built individuals."""

from __future__ import annotations

import pytest
from scipy.stats import spearmanr

from engine import evolution as ev
from engine.evolution import store
from engine.evolution.genome import GENES

FITNESS = [0.1, 0.3, 0.2, 0.5, 0.4, 0.7, 0.6, 0.8]  # uids 1..8
A, B, C, D = GENES[:4]


def _genes(k: int) -> dict[str, float]:
    """Gene values of uid ``k`` (1..8): A rises with k, B falls, C has ties, D is constant,
    the rest follow an arbitrary but fixed pattern."""
    values = {g: float((k * (i + 3)) % 7 + i) for i, g in enumerate(GENES)}
    values |= {A: float(k), B: float(10 - k), C: float([1, 1, 2, 2, 3, 3, 3, 4][k - 1]),
               D: 5.0}
    return values


def _individual(uid: int, params: dict, fitness: float, evaluated: bool = True) -> dict:
    return {"uid": uid, "island": 0, "born": 0, "age": 0, "params": params,
            "fitness": fitness, "objectives": {}, "in_sample": {}, "out_of_sample": None,
            "parents": [], "evaluated": evaluated}


@pytest.fixture
def run_id() -> int:
    rid = store.create_run_row({"generations": 1})
    gen0 = [_individual(k, _genes(k), FITNESS[k - 1]) for k in range(1, 9)]
    store.commit_generation(rid, generation=0, stats=[], individuals=gen0, checkpoint={},
                            run_updates={})
    # generation 1: uid 8 survives (not re-evaluated, its row must not count twice) and a
    # carried clone row with a wild fitness must not count at all
    gen1 = [_individual(8, _genes(8), FITNESS[7], evaluated=False),
            _individual(3, _genes(3), 99.0, evaluated=False)]
    store.commit_generation(rid, generation=1, stats=[], individuals=gen1, checkpoint={},
                            run_updates={})
    return rid


def test_importance_equals_scipy_spearman(run_id):
    imp = ev.parameter_importance(run_id)
    assert list(imp) == list(GENES)
    for g in GENES:
        x = [_genes(k)[g] for k in range(1, 9)]
        if len(set(x)) == 1:  # a constant gene: rho is undefined, importance 0
            assert imp[g] == 0.0, g
            continue
        expected = abs(spearmanr(x, FITNESS).statistic)
        assert imp[g] == pytest.approx(expected, abs=1e-12), g


def test_importance_worked_by_hand(run_id):
    imp = ev.parameter_importance(run_id)
    # A = 1..8 against fitness ranks 1,3,2,5,4,7,6,8: d = 0,−1,1,−1,1,−1,1,0, Σd² = 6,
    # rho = 1 − 6·6 / (8·(64 − 1)) = 1 − 36/504 = 0.928571; B = 10 − k: rho = −0.928571
    assert imp[A] == pytest.approx(1 - 36 / 504, abs=1e-12)
    assert imp[B] == pytest.approx(1 - 36 / 504, abs=1e-12)
    assert imp[D] == 0.0  # never varied


def test_fewer_than_three_genomes_give_zero_importance():
    rid = store.create_run_row({"generations": 1})
    store.commit_generation(rid, generation=0, stats=[], checkpoint={}, run_updates={},
                            individuals=[_individual(k, _genes(k), FITNESS[k - 1])
                                         for k in (1, 2)])
    assert ev.parameter_importance(rid) == {g: 0.0 for g in GENES}
