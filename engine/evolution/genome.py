"""The genome as a vector: the 15 genes of ``engine.backtest.strategies.GENOME_PARAMS``.

An individual is a list of 15 numbers in the order of ``GENOME_PARAMS``; integer genes hold
Python ``int`` values after :func:`repair`. Bounds and kinds come from the foundation's
definition and nothing else, so the genome can never drift from what ``backtest --strategy
genome`` accepts.

Repair (after every variation): clip into bounds, round integer genes to the nearest
integer (Python's ``round`` of the clipped value), then enforce the
ordering constraints ``sma_short < sma_long``, ``macd_fast < macd_slow`` and
``rsi_oversold < rsi_overbought``: if ``a >= b``, ``b`` is raised to the smallest value
above ``a`` (``a + 1`` for integers) when its upper bound allows, otherwise ``a`` is lowered
below ``b``. With the foundation's ranges only the SMA pair can ever collide.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from engine.backtest.strategies import GENOME_PARAMS

GENES: tuple[str, ...] = tuple(p.name for p in GENOME_PARAMS)
N_GENES = len(GENES)
LOW: list[float] = [float(p.low) for p in GENOME_PARAMS]
UP: list[float] = [float(p.high) for p in GENOME_PARAMS]
IS_INT: list[bool] = [p.kind is int for p in GENOME_PARAMS]
_IDX = {g: i for i, g in enumerate(GENES)}
#: Ordering constraints (a < b) as gene-index pairs.
CONSTRAINTS: tuple[tuple[int, int], ...] = tuple(
    (_IDX[a], _IDX[b]) for a, b in (("sma_short", "sma_long"), ("macd_fast", "macd_slow"),
                                    ("rsi_oversold", "rsi_overbought"))
)


#: (index, low, high, is_int) per gene: repair runs once per offspring.
_BOUNDS = tuple(zip(range(N_GENES), LOW, UP, IS_INT, strict=True))


def repair(genes: list) -> list:
    """Clip, round integer genes and enforce the ordering constraints, in place."""
    isfinite = math.isfinite
    for i, lo, up, is_int in _BOUNDS:
        x = float(genes[i])
        if not isfinite(x):
            x = (lo + up) / 2.0
        elif x < lo:
            x = lo
        elif x > up:
            x = up
        genes[i] = int(round(x)) if is_int else x
    for a, b in CONSTRAINTS:
        if genes[a] >= genes[b]:
            if IS_INT[b]:
                if genes[a] + 1 <= UP[b]:
                    genes[b] = int(genes[a]) + 1
                else:
                    genes[b] = int(UP[b])
                    genes[a] = int(UP[b]) - 1
            else:
                nxt = math.nextafter(float(genes[a]), math.inf)
                if nxt <= UP[b]:
                    genes[b] = nxt
                else:
                    genes[b] = UP[b]
                    genes[a] = math.nextafter(UP[b], -math.inf)
    return genes


def random_genes(rng: random.Random) -> list:
    """A uniformly random, repaired genome drawn from ``rng`` (ints uniform over their range)."""
    genes: list = []
    for i in range(N_GENES):
        if IS_INT[i]:
            genes.append(rng.randint(int(LOW[i]), int(UP[i])))
        else:
            genes.append(rng.uniform(LOW[i], UP[i]))
    return repair(genes)


def to_params(genes: Sequence[Any]) -> dict[str, int | float]:
    """Genes → the ``genome`` strategy's parameter dict (ints as ``int``)."""
    return {g: (int(genes[i]) if IS_INT[i] else float(genes[i])) for i, g in enumerate(GENES)}


def from_params(params: Mapping[str, Any]) -> list:
    """A parameter dict (all 15 genes) → a gene list."""
    missing = [g for g in GENES if g not in params]
    if missing:
        raise KeyError(f"genome parameters missing: {', '.join(missing)}")
    return [int(params[g]) if IS_INT[i] else float(params[g]) for i, g in enumerate(GENES)]


def in_bounds(genes: Sequence[Any]) -> bool:
    """Every gene inside its range, integers integral, constraints satisfied."""
    for i in range(N_GENES):
        x = genes[i]
        if not LOW[i] <= x <= UP[i]:
            return False
        if IS_INT[i] and x != int(x):
            return False
    return all(genes[a] < genes[b] for a, b in CONSTRAINTS)


_LOW = np.asarray(LOW)
_SPAN = np.asarray(UP) - _LOW
#: Standard deviation of a uniform variable on [0, 1].
_UNIFORM_STD = 1.0 / math.sqrt(12.0)


def gene_matrix(population: Sequence[Sequence[Any]]) -> np.ndarray:
    """The individuals' genes as an ``(n, N_GENES)`` float64 matrix (one pass over the
    numbers: twice as fast as ``np.array`` over DEAP's list subclasses)."""
    n = len(population)
    return np.fromiter(itertools.chain.from_iterable(population), np.float64,
                       count=n * N_GENES).reshape(n, N_GENES)


def diversity(population: Sequence[Sequence[Any]]) -> float:
    """Mean over genes of the population's standard deviation of the gene scaled to [0, 1],
    divided by that of a uniform distribution (1/sqrt(12)).

    About 1 for a fresh random population, 0 when every individual is identical.
    """
    if len(population) < 2:
        return 0.0
    z = (gene_matrix(population) - _LOW) / _SPAN
    return float(np.mean(z.std(axis=0)) / _UNIFORM_STD)
