"""Variation of a whole generation at once: DEAP's SBX crossover and polynomial mutation, and
the genome's repair, on a ``(n, 15)`` gene matrix, in compiled code.

DEAP's ``cxSimulatedBinaryBounded`` and ``mutPolynomialBounded`` are per-gene Python loops
(about 60 µs per offspring with the repair) — at 500 offspring a generation that alone was
more than the evolution's whole budget (issue 11). NumPy versions of the same formulas still
cost half a millisecond a generation at 50 offspring, in a hundred small array operations;
so these are DEAP's loops, line for line (Deb's NSGA-II code as DEAP writes it), compiled
with numba, and :func:`vary` runs a generation's crossover, mutation, repair and its
"changed" flags in one call. tests/evolution/test_variation.py feeds DEAP's own functions the
same uniform numbers and checks the children agree to 1e-12, and :func:`repair_many` equals
:func:`engine.evolution.genome.repair` row for row, exactly.

**Uniform numbers.** DEAP draws a number only when it needs one; here every gene gets its
numbers whether used or not, from a NumPy generator seeded by one 128-bit draw from the run's
``random.Random`` per call. So a run's variation is still a pure function of its seed (the
generator state in the checkpoint is the run's ``random.Random``), on every backend.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from numba import njit

from engine.backtest import numba_setup  # noqa: F401 - before any @njit (cache folder)
from engine.evolution.genome import CONSTRAINTS, IS_INT, LOW, UP

_LOW = np.asarray(LOW, np.float64)
_UP = np.asarray(UP, np.float64)
_INT = np.asarray(IS_INT, bool)


def uniforms(rng: random.Random, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Arrays of uniform numbers in [0, 1) of the given shapes, from one draw of ``rng``."""
    gen = np.random.Generator(np.random.PCG64(rng.getrandbits(128)))
    return [gen.random(s) for s in shapes]


# Compiled: at 50 offspring a generation the NumPy versions' hundred small array
# operations (each a few microseconds of call overhead) cost half a millisecond, a tenth of
# the generation (issue 11); these per-gene loops are DEAP's own, and take a few
# microseconds. ``x ** y`` here is the C library's ``pow``, as in DEAP.
@njit(cache=True, nogil=True)
def _spread_nb(beta: float, eta: float, rand: float) -> float:
    alpha = 2.0 - beta ** -(eta + 1.0)
    if rand <= 1.0 / alpha:
        return (rand * alpha) ** (1.0 / (eta + 1.0))
    return (1.0 / (2.0 - rand * alpha)) ** (1.0 / (eta + 1.0))


@njit(cache=True, nogil=True)
def _sbx_rows_nb(a, b, eta, u_gene, u_rand, u_order, low, up):  # pragma: no cover - compiled
    """``cxSimulatedBinaryBounded`` of rows ``a[i]`` and ``b[i]``, in place."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if not (u_gene[i, j] <= 0.5 and abs(a[i, j] - b[i, j]) > 1e-14):
                continue
            xl, xu = low[j], up[j]
            x1, x2 = min(a[i, j], b[i, j]), max(a[i, j], b[i, j])
            rand = u_rand[i, j]
            c1 = 0.5 * (x1 + x2 - _spread_nb(1.0 + (2.0 * (x1 - xl) / (x2 - x1)), eta, rand)
                        * (x2 - x1))
            c2 = 0.5 * (x1 + x2 + _spread_nb(1.0 + (2.0 * (xu - x2) / (x2 - x1)), eta, rand)
                        * (x2 - x1))
            c1 = min(max(c1, xl), xu)
            c2 = min(max(c2, xl), xu)
            if u_order[i, j] <= 0.5:
                a[i, j], b[i, j] = c2, c1
            else:
                a[i, j], b[i, j] = c1, c2


@njit(cache=True, nogil=True)
def _polynomial_rows_nb(x, eta, indpb, u_gene, u_rand, low, up):  # pragma: no cover
    """``mutPolynomialBounded`` of every row, in place."""
    mut_pow = 1.0 / (eta + 1.0)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if not u_gene[i, j] <= indpb:
                continue
            xl, xu = low[j], up[j]
            v = x[i, j]
            rand = u_rand[i, j]
            if rand < 0.5:
                xy = 1.0 - (v - xl) / (xu - xl)
                val = 2.0 * rand + (1.0 - 2.0 * rand) * xy ** (eta + 1.0)
                delta_q = val ** mut_pow - 1.0
            else:
                xy = 1.0 - (xu - v) / (xu - xl)
                val = 2.0 * (1.0 - rand) + 2.0 * (rand - 0.5) * xy ** (eta + 1.0)
                delta_q = 1.0 - val ** mut_pow
            x[i, j] = min(max(v + delta_q * (xu - xl), xl), xu)


@njit(cache=True, nogil=True)
def _repair_rows_nb(x, low, up, is_int, cons):  # pragma: no cover - compiled
    """:func:`engine.evolution.genome.repair` of every row, in place."""
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            if not np.isfinite(v):
                v = (low[j] + up[j]) / 2.0
            elif v < low[j]:
                v = low[j]
            elif v > up[j]:
                v = up[j]
            x[i, j] = np.rint(v) if is_int[j] else v
        for k in range(cons.shape[0]):
            a, b = cons[k, 0], cons[k, 1]
            if x[i, a] < x[i, b]:
                continue
            if is_int[b]:
                if x[i, a] + 1.0 <= up[b]:
                    x[i, b] = x[i, a] + 1.0
                else:
                    x[i, b] = up[b]
                    x[i, a] = up[b] - 1.0
            else:
                nxt = np.nextafter(x[i, a], np.inf)
                if nxt <= up[b]:
                    x[i, b] = nxt
                else:
                    x[i, b] = up[b]
                    x[i, a] = np.nextafter(up[b], -np.inf)


@njit(cache=True, nogil=True)
def _vary_nb(before, pair_on, u_gene, u_rand, u_order, m_gene, m_rand, eta_c, eta_m,
             indpb, low, up, is_int, cons):  # pragma: no cover - compiled
    n = before.shape[0]
    x = before.copy()
    crossed = np.zeros(n, np.bool_)
    for p in range(pair_on.shape[0]):
        if pair_on[p]:
            i = 2 * p
            _sbx_rows_nb(x[i:i + 1], x[i + 1:i + 2], eta_c, u_gene[p:p + 1],
                         u_rand[p:p + 1], u_order[p:p + 1], low, up)
            crossed[i] = crossed[i + 1] = True
    _polynomial_rows_nb(x, eta_m, indpb, m_gene, m_rand, low, up)
    _repair_rows_nb(x, low, up, is_int, cons)
    changed = np.zeros(n, np.bool_)
    for i in range(n):
        for j in range(x.shape[1]):
            if x[i, j] != before[i, j]:
                changed[i] = True
                break
    return x, crossed, changed


_CONS = np.asarray(CONSTRAINTS, np.int64).reshape(-1, 2)


def sbx(a: np.ndarray, b: np.ndarray, eta: float, u_gene: np.ndarray, u_rand: np.ndarray,
        u_order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Children of the parent rows ``a[i]``, ``b[i]`` (DEAP's ``cxSimulatedBinaryBounded``
    on the genome's bounds): a gene crosses when ``u_gene <= 0.5`` and the parents differ
    by more than 1e-14; ``u_rand`` is its spread draw, ``u_order`` decides which child gets
    which value."""
    new_a, new_b = np.array(a, np.float64), np.array(b, np.float64)
    _sbx_rows_nb(new_a, new_b, float(eta), u_gene, u_rand, u_order, _LOW, _UP)
    return new_a, new_b


def polynomial(x: np.ndarray, eta: float, indpb: float, u_gene: np.ndarray,
               u_rand: np.ndarray) -> np.ndarray:
    """DEAP's ``mutPolynomialBounded`` on every row: a gene mutates when ``u_gene <=
    indpb``, by the polynomial step of its draw ``u_rand``, clipped into its bounds."""
    out = np.array(x, np.float64)
    _polynomial_rows_nb(out, float(eta), float(indpb), u_gene, u_rand, _LOW, _UP)
    return out


def repair_many(x: np.ndarray) -> np.ndarray:
    """:func:`engine.evolution.genome.repair` of every row (a new float array; integer genes
    hold whole numbers): non-finite → the range's middle, clip, round integer genes (half to
    even, as Python's ``round``), then the ordering constraints in their order."""
    out = np.array(x, np.float64)
    _repair_rows_nb(out, _LOW, _UP, _INT, _CONS)
    return out


def vary(before: np.ndarray, pair_on: np.ndarray, uniform: Sequence[np.ndarray], *,
         sbx_eta: float, mutation_eta: float, mutation_rate: float
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One generation's variation in one compiled call: pairs ``(2p, 2p + 1)`` with
    ``pair_on[p]`` crossed (:func:`sbx`), every row mutated (:func:`polynomial`) and
    repaired (:func:`repair_many`). ``uniform``: the pairs' gene, spread and order draws and
    the rows' gene and step draws (:func:`uniforms`). Returns the children, which rows were
    crossed and which changed at all."""
    u_gene, u_rand, u_order, m_gene, m_rand = uniform
    return _vary_nb(np.ascontiguousarray(before, np.float64), pair_on, u_gene, u_rand,
                    u_order, m_gene, m_rand, float(sbx_eta), float(mutation_eta),
                    float(mutation_rate), _LOW, _UP, _INT, _CONS)


def as_gene_lists(x: np.ndarray) -> list[list]:
    """Rows as gene lists: Python ``int`` for integer genes, ``float`` otherwise (through an
    object array: a third of the cost of converting the integer genes one by one)."""
    obj = x.astype(object)
    obj[:, _INT] = x[:, _INT].astype(np.int64).astype(object)
    return obj.tolist()
