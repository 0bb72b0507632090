"""Variation of a whole generation at once: DEAP's SBX crossover and polynomial mutation, and
the genome's repair, on a ``(n, 15)`` gene matrix.

DEAP's ``cxSimulatedBinaryBounded`` and ``mutPolynomialBounded`` are per-gene Python loops
(about 60 µs per offspring with the repair) — at 500 offspring a generation that alone was
more than the evolution's whole budget (issue 11). These are the same formulas (Deb's
NSGA-II code, as DEAP writes them, line for line) over arrays; tests/evolution/
test_variation.py feeds DEAP's own functions the same uniform numbers and checks the
children agree to 1e-12 (NumPy's vectorised ``power`` may round a last bit differently from
the C library's ``pow`` that Python's ``**`` calls), and :func:`repair_many` equals
:func:`engine.evolution.genome.repair` row for row, exactly.

**Uniform numbers.** DEAP draws a number only when it needs one; here every gene gets its
numbers whether used or not, from a NumPy generator seeded by one 128-bit draw from the run's
``random.Random`` per call. So a run's variation is still a pure function of its seed (the
generator state in the checkpoint is the run's ``random.Random``), on every backend.
"""

from __future__ import annotations

import random

import numpy as np

from engine.evolution.genome import CONSTRAINTS, IS_INT, LOW, UP

_LOW = np.asarray(LOW, np.float64)
_UP = np.asarray(UP, np.float64)
_INT = np.asarray(IS_INT, bool)
_MID = (_LOW + _UP) / 2.0


def uniforms(rng: random.Random, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Arrays of uniform numbers in [0, 1) of the given shapes, from one draw of ``rng``."""
    gen = np.random.Generator(np.random.PCG64(rng.getrandbits(128)))
    return [gen.random(s) for s in shapes]


def sbx(a: np.ndarray, b: np.ndarray, eta: float, u_gene: np.ndarray, u_rand: np.ndarray,
        u_order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Children of the parent rows ``a[i]``, ``b[i]`` (DEAP's ``cxSimulatedBinaryBounded``
    on the genome's bounds): a gene crosses when ``u_gene <= 0.5`` and the parents differ
    by more than 1e-14; ``u_rand`` is its spread draw, ``u_order`` decides which child gets
    which value."""
    xl, xu = _LOW, _UP
    cross = (u_gene <= 0.5) & (np.abs(a - b) > 1e-14)
    x1 = np.minimum(a, b)
    x2 = np.maximum(a, b)
    e1 = 1.0 / (eta + 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        span = x2 - x1
        rand = u_rand

        def spread(beta: np.ndarray) -> np.ndarray:
            alpha = 2.0 - beta ** -(eta + 1)
            return np.where(rand <= 1.0 / alpha, (rand * alpha) ** e1,
                            (1.0 / (2.0 - rand * alpha)) ** e1)

        c1 = 0.5 * (x1 + x2 - spread(1.0 + (2.0 * (x1 - xl) / span)) * span)
        c2 = 0.5 * (x1 + x2 + spread(1.0 + (2.0 * (xu - x2) / span)) * span)
    c1 = np.minimum(np.maximum(c1, xl), xu)
    c2 = np.minimum(np.maximum(c2, xl), xu)
    swap = u_order <= 0.5
    new_a = np.where(cross, np.where(swap, c2, c1), a)
    new_b = np.where(cross, np.where(swap, c1, c2), b)
    return new_a, new_b


def polynomial(x: np.ndarray, eta: float, indpb: float, u_gene: np.ndarray,
               u_rand: np.ndarray) -> np.ndarray:
    """DEAP's ``mutPolynomialBounded`` on every row: a gene mutates when ``u_gene <=
    indpb``, by the polynomial step of its draw ``u_rand``, clipped into its bounds."""
    xl, xu = _LOW, _UP
    width = xu - xl
    delta_1 = (x - xl) / width
    delta_2 = (xu - x) / width
    rand = u_rand
    mut_pow = 1.0 / (eta + 1.0)
    with np.errstate(invalid="ignore"):
        low_side = 2.0 * rand + (1.0 - 2.0 * rand) * (1.0 - delta_1) ** (eta + 1)
        high_side = 2.0 * (1.0 - rand) + 2.0 * (rand - 0.5) * (1.0 - delta_2) ** (eta + 1)
        delta_q = np.where(rand < 0.5, low_side ** mut_pow - 1.0, 1.0 - high_side ** mut_pow)
    moved = np.minimum(np.maximum(x + delta_q * width, xl), xu)
    return np.where(u_gene <= indpb, moved, x)


def repair_many(x: np.ndarray) -> np.ndarray:
    """:func:`engine.evolution.genome.repair` of every row (a new float array; integer genes
    hold whole numbers): non-finite → the range's middle, clip, round integer genes (half to
    even, as Python's ``round``), then the ordering constraints in their order."""
    x = np.where(np.isfinite(x), x, _MID)
    x = np.minimum(np.maximum(x, _LOW), _UP)
    x[:, _INT] = np.rint(x[:, _INT])
    for a, b in CONSTRAINTS:
        bad = x[:, a] >= x[:, b]
        if not bad.any():
            continue
        up = UP[b]
        if IS_INT[b]:
            raised = x[:, a] + 1.0
            fits = raised <= up
            x[:, b] = np.where(bad & fits, raised, np.where(bad, up, x[:, b]))
            x[:, a] = np.where(bad & ~fits, up - 1.0, x[:, a])
        else:
            raised = np.nextafter(x[:, a], np.inf)
            fits = raised <= up
            x[:, b] = np.where(bad & fits, raised, np.where(bad, up, x[:, b]))
            x[:, a] = np.where(bad & ~fits, np.nextafter(up, -np.inf), x[:, a])
    return x


def as_gene_lists(x: np.ndarray) -> list[list]:
    """Rows as gene lists: Python ``int`` for integer genes, ``float`` otherwise."""
    rows = x.tolist()
    ints = [i for i, flag in enumerate(IS_INT) if flag]
    for row in rows:
        for i in ints:
            row[i] = int(row[i])
    return rows
