"""DEAP types and operators, bound to a per-run random generator.

**DEAP types** are created lazily, once per process, under a lock (:func:`individual_class`)
— importing this module has no side effect on ``deap.creator``.

**Randomness.** DEAP's operators call the module-level ``random``; another thread of the app
could draw from it at any time, so a run never uses the global generator. Instead
:func:`bind` makes a copy of a DEAP operator whose global name ``random`` resolves to the
run's own ``random.Random`` (``types.FunctionType`` over the same code object): the exact
DEAP algorithm, drawing only from the run's generator, with no global state touched and no
lock needed. Variation draws its uniform numbers from a NumPy generator seeded by one draw
of the same ``random.Random`` per island and generation. The generator's state is saved in
every checkpoint (JSON), so a resumed run continues the very same sequence.

**Operators** (bounds from the genome, see :mod:`engine.evolution.genome`):

- crossover: the formulas of ``deap.tools.cxSimulatedBinaryBounded`` (eta = ``sbx_eta``)
  over the generation's gene matrix (:mod:`engine.evolution.variation`; a test keeps them
  equal to DEAP's for the same uniform numbers) on each pair of parents with probability
  ``crossover_rate``;
- mutation: likewise ``deap.tools.mutPolynomialBounded`` (eta = ``mutation_eta``) on every
  offspring with per-gene probability = the current mutation rate;
- then the repair of every row (clip, round integers, constraints: exactly
  :func:`~engine.evolution.genome.repair`);
- selection: tournament of ``tournament_size`` (``deap.tools.selTournament``) with
  elitism (the ``elite_size`` best survive unchanged) in single-objective mode;
  NSGA-II (``deap.tools.selNSGA2``) in multi-objective mode, with binary tournaments on
  (Pareto rank, crowding distance) for choosing parents.

**Adaptive mutation rule.** With D the population's diversity (mean normalised gene
standard deviation relative to a uniform population: ≈1 random, 0 converged) and D* =
``target_diversity`` (0.25)::

    rate = min(max_mutation_rate, mutation_rate × max(1, D* / D))

i.e. the base rate while D ≥ D*, rising in inverse proportion to D below it (doubling at
D = D*/2), capped at ``max_mutation_rate`` (0.5). Computed per island from the island's
population before its variation step; ``adaptive_mutation=False`` keeps the base rate.
"""

from __future__ import annotations

import random
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

from deap import base, creator, tools

from engine.evolution import variation
from engine.evolution.genome import diversity, gene_matrix

_lock = threading.Lock()


def individual_class(n_objectives: int) -> type:
    """``creator.StratLabIndividual{n}``: a list with an all-maximising fitness (lazy, once)."""
    name = f"StratLabIndividual{n_objectives}"
    fit = f"StratLabFitness{n_objectives}"
    with _lock:
        if not hasattr(creator, fit):
            creator.create(fit, base.Fitness, weights=(1.0,) * n_objectives)
        if not hasattr(creator, name):
            creator.create(name, list, fitness=getattr(creator, fit))
    return getattr(creator, name)


def bind(fn: Callable, rng: random.Random, **extra_globals: Any) -> Callable:
    """A copy of ``fn`` whose global ``random`` (and ``extra_globals``) are replaced."""
    g = dict(fn.__globals__)
    g["random"] = rng
    g.update(extra_globals)
    out = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    out.__kwdefaults__ = fn.__kwdefaults__
    return out


def adaptive_rate(base_rate: float, div: float, target: float, cap: float,
                  enabled: bool = True) -> float:
    """The adaptive mutation rule (module docstring)."""
    if not enabled:
        return base_rate
    factor = target / div if div > 1e-12 else float("inf")
    return min(cap, base_rate * max(1.0, factor))


class Operators:
    """The run's variation and selection operators, all drawing from ``rng``."""

    def __init__(self, rng: random.Random, *, sbx_eta: float, mutation_eta: float,
                 tournament_size: int) -> None:
        self.rng = rng
        sel_random = bind(tools.selRandom, rng)
        self._sel_tournament = bind(tools.selTournament, rng, selRandom=sel_random)
        self.sbx_eta = sbx_eta
        self.mutation_eta = mutation_eta
        self.tournament_size = tournament_size

    # ---------------------------------------------------------------- variation
    def vary(self, offspring: list, crossover_rate: float, mutation_rate: float
             ) -> tuple[list[bool], list[bool]]:
        """Crossover pairs and mutate every offspring in place; repair each.

        Returns per offspring (crossed with its pair mate, genes changed at all); changed
        ones need evaluating. The whole generation is varied as one gene matrix
        (:mod:`engine.evolution.variation`: DEAP's formulas over arrays).
        """
        n = len(offspring)
        if n == 0:
            return [], []
        before = gene_matrix(offspring)
        pairs, g = n // 2, before.shape[1]
        u_pair, *uniform = variation.uniforms(
            self.rng, (pairs,), (pairs, g), (pairs, g), (pairs, g), (n, g), (n, g))
        x, crossed, changed = variation.vary(
            before, u_pair < crossover_rate, uniform, sbx_eta=self.sbx_eta,
            mutation_eta=self.mutation_eta, mutation_rate=mutation_rate)
        for ind, genes in zip(offspring, variation.as_gene_lists(x), strict=True):
            ind[:] = genes
        return crossed.tolist(), changed.tolist()

    # ---------------------------------------------------------------- selection
    def tournament(self, population: Sequence, k: int) -> list:
        """``k`` tournament winners (``deap.tools.selTournament``)."""
        return self._sel_tournament(population, k, self.tournament_size)

    def nsga2_parents(self, population: Sequence, k: int) -> list:
        """``k`` binary-tournament winners on (Pareto rank, crowding distance)."""
        rank = pareto_ranks(population)
        crowd: dict[int, float] = {}
        for front in _fronts(population):
            tools.emo.assignCrowdingDist(front)
            for ind in front:
                crowd[id(ind)] = ind.fitness.crowding_dist
        out = []
        for _ in range(k):
            a = population[self.rng.randrange(len(population))]
            b = population[self.rng.randrange(len(population))]
            ka = (rank[id(a)], -crowd[id(a)])
            kb = (rank[id(b)], -crowd[id(b)])
            out.append(a if ka <= kb else b)
        return out


def _fronts(population: Sequence) -> list[list]:
    return tools.sortNondominated(list(population), len(population))


def pareto_ranks(population: Sequence) -> dict[int, int]:
    """``id(individual) -> rank`` (0 = non-dominated)."""
    return {id(ind): r for r, front in enumerate(_fronts(population)) for ind in front}


def nsga2_survivors(population: Sequence, k: int) -> list:
    """``deap.tools.selNSGA2``: the k survivors of parents + offspring."""
    return tools.selNSGA2(list(population), k)


def best(population: Sequence, k: int) -> list:
    """``deap.tools.selBest`` (stable: earlier wins ties)."""
    return tools.selBest(list(population), k)


def island_diversity(population: Sequence) -> float:
    return diversity(population)
