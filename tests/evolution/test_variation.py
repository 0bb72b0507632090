"""engine.evolution.variation: the generation-at-once SBX crossover and polynomial mutation
give DEAP's children for the same uniform numbers (DEAP's own functions, fed those numbers
in the order they draw them), and repair_many is genome.repair row for row."""

from __future__ import annotations

import random

import numpy as np
import pytest
from deap import tools
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evolution.genome import IS_INT, LOW, N_GENES, UP, in_bounds, random_genes, repair
from engine.evolution.operators import Operators, bind, individual_class
from engine.evolution.variation import polynomial, repair_many, sbx, uniforms


class Replay:
    """A stand-in for ``random`` that hands out the given numbers in order."""

    def __init__(self, numbers: list[float]) -> None:
        self.numbers = list(numbers)

    def random(self) -> float:
        return self.numbers.pop(0)


def _parents(seed: int, n: int) -> np.ndarray:
    rng = random.Random(seed)
    return np.array([random_genes(rng) for _ in range(n)], np.float64)


@pytest.mark.parametrize("eta", [15.0, 2.0, 40.0])
def test_sbx_gives_deaps_children_for_the_same_numbers(eta):
    a, b = _parents(1, 40), _parents(2, 40)
    b[:5] = a[:5]  # identical parents: nothing crosses (DEAP draws no spread number)
    b[5:10, :4] = a[5:10, :4]
    u_gene, u_rand, u_order = uniforms(random.Random(3), a.shape, a.shape, a.shape)
    ca, cb = sbx(a, b, eta, u_gene, u_rand, u_order)
    for i in range(len(a)):
        # the numbers DEAP draws, in its order: per gene the 0.5 test, then (when it
        # crosses) the spread and the order
        seq = []
        for j in range(N_GENES):
            seq.append(u_gene[i, j])
            if u_gene[i, j] <= 0.5 and abs(a[i, j] - b[i, j]) > 1e-14:
                seq += [u_rand[i, j], u_order[i, j]]
        x1, x2 = a[i].tolist(), b[i].tolist()
        replay = Replay(seq)
        bind(tools.cxSimulatedBinaryBounded, replay)(x1, x2, eta, LOW, UP)
        assert not replay.numbers  # DEAP used exactly these numbers
        np.testing.assert_allclose(ca[i], x1, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cb[i], x2, rtol=1e-12, atol=1e-12)
    assert (ca[:5] == a[:5]).all() and (cb[:5] == b[:5]).all()
    assert not np.allclose(ca[10:], a[10:])  # and the rest did cross


@pytest.mark.parametrize(("eta", "indpb"), [(20.0, 0.3), (5.0, 1.0), (20.0, 0.0)])
def test_polynomial_mutation_gives_deaps_mutant_for_the_same_numbers(eta, indpb):
    x = _parents(4, 60)
    x[0] = LOW  # at the bounds: the steps' edge cases
    x[1] = UP
    u_gene, u_rand = uniforms(random.Random(5), x.shape, x.shape)
    out = polynomial(x, eta, indpb, u_gene, u_rand)
    for i in range(len(x)):
        seq = []
        for j in range(N_GENES):
            seq.append(u_gene[i, j])
            if u_gene[i, j] <= indpb:
                seq.append(u_rand[i, j])
        ind = x[i].tolist()
        replay = Replay(seq)
        bind(tools.mutPolynomialBounded, replay)(ind, eta, LOW, UP, indpb)
        assert not replay.numbers
        np.testing.assert_allclose(out[i], ind, rtol=1e-12, atol=1e-12)
    if indpb == 0.0:
        assert (out == x).all()


raw_gene = st.one_of(st.floats(min_value=-1e3, max_value=1e3), st.just(float("nan")),
                     st.just(float("inf")), st.sampled_from([20.0, 25.0, 24.5, 25.5, 100.0]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(raw_gene, min_size=15, max_size=15), min_size=1, max_size=8))
def test_repair_many_is_repair_row_for_row(rows):
    got = repair_many(np.array(rows, np.float64))
    for row, fixed in zip(rows, got, strict=True):
        expected = repair(list(row))
        assert fixed.tolist() == [float(v) for v in expected]
        assert in_bounds(fixed.tolist())


def test_repair_many_resolves_a_collision_at_the_upper_bound():
    # sma_short = 25 (its top) and sma_long = 20: sma_long is raised to 26; rsi_oversold at
    # 40 and rsi_overbought at 60 are fine; hand-worked against genome.repair's rule
    row = [(lo + up) / 2 for lo, up in zip(LOW, UP, strict=True)]
    row[3], row[4] = 25.0, 20.0
    out = repair_many(np.array([row]))[0]
    assert (out[3], out[4]) == (25.0, 26.0)


def test_vary_keeps_types_bounds_and_reports_what_changed():
    rng = random.Random(11)
    cls = individual_class(1)
    ops = Operators(rng, sbx_eta=15, mutation_eta=20, tournament_size=3)
    kids = [cls(random_genes(rng)) for _ in range(9)]  # odd: the last has no mate
    before = [list(k) for k in kids]
    crossed, changed = ops.vary(kids, 1.0, 0.0)
    assert crossed == [True] * 8 + [False]
    assert changed[-1] is False and kids[-1] == before[-1]  # no mate, no mutation
    assert changed[:8] == [k != b for k, b in zip(kids[:8], before[:8], strict=True)]
    for k in kids:
        assert in_bounds(k)
        assert all(isinstance(v, int) if IS_INT[i] else isinstance(v, float)
                   for i, v in enumerate(k))
    _, unchanged = ops.vary(kids, 0.0, 0.0)
    assert unchanged == [False] * 9


def test_vary_is_sbx_on_the_chosen_pairs_then_mutation_then_repair():
    from engine.evolution.variation import vary

    x = _parents(21, 11)  # odd: the last row has no mate
    pairs, g = 5, N_GENES
    u_pair, *uniform = uniforms(random.Random(8), (pairs,), (pairs, g), (pairs, g),
                                (pairs, g), (11, g), (11, g))
    on = u_pair < 0.6
    got, crossed, changed = vary(x, on, uniform, sbx_eta=15.0, mutation_eta=20.0,
                                 mutation_rate=0.2)
    u_gene, u_rand, u_order, m_gene, m_rand = uniform
    want = x.copy()
    first = np.arange(0, 2 * pairs, 2)[on]
    want[first], want[first + 1] = sbx(want[first], want[first + 1], 15.0, u_gene[on],
                                       u_rand[on], u_order[on])
    want = repair_many(polynomial(want, 20.0, 0.2, m_gene, m_rand))
    np.testing.assert_array_equal(got, want)
    assert crossed.tolist() == [bool(on[i // 2]) if i < 10 else False for i in range(11)]
    assert changed.tolist() == (want != x).any(axis=1).tolist()
    assert 0 < on.sum() < pairs  # both kinds of pair were seen
