"""Operators keep genes in bounds and constraints; randomness is the run's own."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest import GENOME_PARAMS, get_strategy
from engine.evolution.genome import (
    GENES,
    IS_INT,
    LOW,
    UP,
    diversity,
    from_params,
    in_bounds,
    random_genes,
    repair,
    to_params,
)
from engine.evolution.operators import Operators, adaptive_rate, individual_class

raw_gene = st.one_of(st.floats(min_value=-1e3, max_value=1e3), st.just(float("nan")))


@settings(max_examples=200, deadline=None)
@given(st.lists(raw_gene, min_size=15, max_size=15))
def test_repair_puts_any_vector_inside_bounds_and_constraints(values):
    genes = repair(list(values))
    assert in_bounds(genes)
    get_strategy("genome").resolve(to_params(genes))  # the backtester accepts it


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), cx=st.floats(0, 1), mut=st.floats(0, 1))
def test_variation_keeps_every_gene_inside_its_bounds(seed, cx, mut):
    rng = random.Random(seed)
    cls = individual_class(1)
    ops = Operators(rng, sbx_eta=15, mutation_eta=20, tournament_size=3)
    kids = [cls(random_genes(rng)) for _ in range(8)]
    crossed, changed = ops.vary(kids, cx, mut)
    assert len(crossed) == len(changed) == 8
    for k in kids:
        assert in_bounds(k)
        for i, v in enumerate(k):
            assert isinstance(v, int) if IS_INT[i] else isinstance(v, float)


def test_genome_matches_the_foundation_definition():
    assert GENES == tuple(p.name for p in GENOME_PARAMS)
    assert LOW == [p.low for p in GENOME_PARAMS] and UP == [p.high for p in GENOME_PARAMS]
    g = random_genes(random.Random(1))
    assert from_params(to_params(g)) == g


def test_operators_never_touch_the_global_random_state():
    random.seed(123)
    state = random.getstate()
    rng = random.Random(5)
    cls = individual_class(1)
    ops = Operators(rng, sbx_eta=15, mutation_eta=20, tournament_size=3)
    pop = [cls(random_genes(rng)) for _ in range(10)]
    for ind in pop:
        ind.fitness.values = (rng.random(),)
    ops.vary([cls(p) for p in ops.tournament(pop, 10)], 0.9, 0.5)
    assert random.getstate() == state


def test_same_seed_same_variation():
    def run(seed):
        rng = random.Random(seed)
        cls = individual_class(1)
        ops = Operators(rng, sbx_eta=15, mutation_eta=20, tournament_size=3)
        kids = [cls(random_genes(rng)) for _ in range(6)]
        ops.vary(kids, 0.8, 0.3)
        return [list(k) for k in kids]

    assert run(9) == run(9) and run(9) != run(10)


def test_adaptive_mutation_rate_rises_as_diversity_falls():
    assert adaptive_rate(0.1, 0.8, 0.25, 0.5) == 0.1
    assert adaptive_rate(0.1, 0.125, 0.25, 0.5) == 0.2
    assert adaptive_rate(0.1, 0.0, 0.25, 0.5) == 0.5
    assert adaptive_rate(0.1, 0.01, 0.25, 0.5, enabled=False) == 0.1


def test_diversity_is_one_ish_for_random_and_zero_for_clones():
    rng = random.Random(3)
    pop = [random_genes(rng) for _ in range(200)]
    assert 0.8 < diversity(pop) < 1.2
    assert diversity([pop[0]] * 5) == 0.0
    # worked by hand: one individual at every lower bound, one at every upper bound →
    # each scaled gene is {0, 1}, population std 0.5; 0.5 / (1/sqrt(12)) = sqrt(3)
    assert diversity([LOW, UP]) == pytest.approx(3 ** 0.5, rel=1e-12)
    # a quarter of the span apart: {0, 0.25} → std 0.125 → 0.125·sqrt(12) = 0.433013
    quarter = [lo + (up - lo) / 4 for lo, up in zip(LOW, UP, strict=True)]
    assert diversity([LOW, quarter]) == pytest.approx(0.125 * 12 ** 0.5, rel=1e-12)
