"""The island model: sub-populations evolving apart, with ring migration.

``population_size`` is split over ``islands`` sub-populations (as evenly as possible); each
island selects, varies and keeps its elites on its own (one batched evaluation covers every
island of a generation). Every ``migration_interval`` generations (after generation g with
g % interval == 0) island *i* sends copies of its ``migration_size`` best individuals to
island *(i + 1) mod islands* (a ring), where they replace that island's worst. All
emigrants are chosen before anyone arrives, so the result does not depend on island order.
A migrant keeps its uid (it is the same genome, with the same metrics) and its island
becomes the destination; its copy at home stays.

In multi-objective mode "best" and "worst" are by NSGA-II order (``selNSGA2``): emigrants
are the first ``migration_size`` of that order and the replaced are the last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deap import tools


def should_migrate(generation: int, islands: int, interval: int, size: int) -> bool:
    return islands > 1 and size > 0 and generation > 0 and generation % interval == 0


def ring_migrate(islands: list[list[Any]], size: int, *, multi: bool,
                 clone: Callable[[Any], Any]) -> list[tuple[int, int, Any]]:
    """Migrate in place; return ``(from_island, to_island, migrant)`` for each move."""
    n = len(islands)
    order = [_ranked(pop, multi) for pop in islands]
    emigrants = [[clone(ind) for ind in order[i][:size]] for i in range(n)]
    moves = []
    for i in range(n):
        dest = (i + 1) % n
        worst = order[dest][-size:]
        pop = islands[dest]
        for old, new in zip(worst, emigrants[i], strict=False):
            pop[_index_of(pop, old)] = new
            moves.append((i, dest, new))
    return moves


def _ranked(pop: list[Any], multi: bool) -> list[Any]:
    """Best first: NSGA-II order in multi-objective mode, else by fitness (stable)."""
    if multi:
        return tools.selNSGA2(list(pop), len(pop))
    return sorted(pop, key=lambda ind: ind.fitness.wvalues, reverse=True)


def _index_of(pop: list[Any], ind: Any) -> int:
    for k, x in enumerate(pop):
        if x is ind:
            return k
    raise ValueError("individual not in population")
