"""A batch of parameter sets as the compiled kernels' arrays, built a column at a time.

Every batch path (``run_batch``, ``returns_matrix``, ``PortfolioBatch``) hands the kernels
the same arrays: per parameter set the bank rows of its indicators, its float values and
its stop-loss / take-profit / size fractions. Built one set at a time in Python that cost
more than the compiled kernel for 1,000 genomes (issue 11), so here it is built from the
parameters as columns: each of the strategy's key templates (``Strategy.key_spec``) becomes
an integer code per set, ``np.unique`` finds the distinct indicators (a few hundred among
7,000 genome keys), the bank computes the ones it lacks, and the rows are one fancy index.
The result is exactly what ``Strategy.pack`` and ``trade_levels`` give set by set
(tests/backtest/test_packing.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.backtest.results import BacktestSettings
from engine.backtest.strategies import IndicatorKey, Strategy

__all__ = ["BatchPlan", "PackedBatch", "batch_columns", "distinct_keys", "pack_batch",
           "pack_levels", "plan_batch", "resolve_batch"]

_BITS = 20  # each period of a key in 20 bits of its code (every range is below 2**20)


@dataclass(frozen=True)
class PackedBatch:
    """The kernel's arrays for ``len(params)`` parameter sets of one strategy on one bank."""

    params: list[dict[str, Any]]  # resolved, in the order given
    rows: np.ndarray  # (m, n_keys) int64: bank row of each indicator key
    vals: np.ndarray  # (m, max(1, n_values)) float64
    sl: np.ndarray  # (m,) float64 fractions; 0 = off
    tp: np.ndarray
    size: np.ndarray  # 0 = all-in


def resolve_batch(strat: Strategy, param_sets: Sequence[Mapping[str, Any]], *,
                  validated: bool = False
                  ) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """The resolved sets and their columns; ``validated`` sets are taken as they are."""
    if validated:
        resolved = list(param_sets)
        return resolved, batch_columns(strat, resolved)
    resolved, cols = strat.resolve_many(param_sets)
    return resolved, cols if cols is not None else batch_columns(strat, resolved)


def batch_columns(strat: Strategy, resolved: Sequence[Mapping[str, Any]]
                  ) -> dict[str, np.ndarray]:
    """``{parameter: array}`` of resolved sets (int64 for whole-number parameters)."""
    return {p.name: np.array([s[p.name] for s in resolved],
                             np.int64 if p.kind is int else np.float64)
            for p in strat.params}


def distinct_keys(strat: Strategy, cols: Mapping[str, np.ndarray]
                  ) -> tuple[list[IndicatorKey], list[tuple[int, np.ndarray]]]:
    """The distinct indicator keys of a batch, and per key template ``(offset, inverse)``:
    set ``i``'s key of that template is ``keys[offset + inverse[i]]``.

    One ``np.unique`` over every template's codes (the template's number in the top bits,
    so the unique codes come out grouped by template); a key that two templates share (the
    genome's SMA of ``sma_long`` and of ``bb_period``) is listed once per template.
    """
    spec = strat.key_spec
    if len(spec) > 7 or any(len(names) > 3 for _kind, *names in spec):
        raise ValueError(f"strategy {strat.name}: at most 7 key templates of 3 periods")
    m = len(cols[spec[0][1]])
    code = np.empty((len(spec), m), np.int64)
    for t, (_kind, *names) in enumerate(spec):
        c = np.full(m, t << (3 * _BITS), np.int64)
        for j, n in enumerate(names):
            periods = cols[n].astype(np.int64)
            if m and not (periods.min() >= 0 and periods.max() < 1 << _BITS):
                raise ValueError(f"{strat.name} parameter {n} holds a period outside "
                                 f"0..{(1 << _BITS) - 1}; resolve the parameter sets first")
            c |= periods << (_BITS * j)
        code[t] = c
    uniq, inverse = np.unique(code.reshape(-1), return_inverse=True)
    inverse = inverse.reshape(len(spec), m)
    bounds = np.searchsorted(uniq >> (3 * _BITS), np.arange(len(spec) + 1))
    mask = (1 << _BITS) - 1
    keys: list[IndicatorKey] = []
    parts: list[tuple[int, np.ndarray]] = []
    for t, (kind, *names) in enumerate(spec):
        lo, hi = int(bounds[t]), int(bounds[t + 1])
        part = uniq[lo:hi]
        periods = [((part >> (_BITS * j)) & mask).tolist() for j in range(len(names))]
        parts.append((len(keys), inverse[t] - lo))
        keys.extend(zip(itertools.repeat(kind, hi - lo), *periods, strict=True))
    return keys, parts


def pack_levels(strat: Strategy, cols: Mapping[str, np.ndarray], m: int,
                settings: BacktestSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stop-loss, take-profit, size) per set — ``trade_levels`` a column at a time: a
    setting overrides the genes, the genes apply when ``settings.trade_genes``."""
    genes = strat.name == "genome" and settings.trade_genes
    out = []
    for setting, gene in ((settings.stop_loss, "stop_loss"),
                          (settings.take_profit, "take_profit"),
                          (settings.size, "position_size")):
        if setting is not None:
            out.append(np.full(m, float(setting or 0.0)))
        elif genes:
            out.append(np.ascontiguousarray(cols[gene], np.float64))
        else:
            out.append(np.zeros(m))
    return out[0], out[1], out[2]


@dataclass(frozen=True)
class BatchPlan:
    """The part of packing that does not depend on the data: the distinct indicator keys,
    which of them each set reads, and the float values and trade levels. Windows or
    symbols that evaluate the same sets share one plan; :meth:`pack` adds the bank rows."""

    params: list[dict[str, Any]]
    keys: list[IndicatorKey]
    parts: list[tuple[int, np.ndarray]]  # see distinct_keys
    vals: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    size: np.ndarray

    def pack(self, index_of) -> PackedBatch:
        """The kernel arrays on one bank: ``index_of(keys)`` makes sure the bank holds the
        keys and returns their rows (``IndicatorBank.rows_of``)."""
        where = index_of(self.keys)
        rows = np.zeros((len(self.params), max(1, len(self.parts))), np.int64)
        for t, (offset, inverse) in enumerate(self.parts):
            rows[:, t] = where[offset + inverse]
        return PackedBatch(self.params, rows, self.vals, self.sl, self.tp, self.size)


def plan_batch(strat: Strategy, resolved: list[dict[str, Any]],
               cols: Mapping[str, np.ndarray], settings: BacktestSettings) -> BatchPlan:
    """The :class:`BatchPlan` of resolved sets and their columns."""
    m = len(resolved)
    keys, parts = distinct_keys(strat, cols)
    names = strat.value_names
    vals = (np.column_stack([np.asarray(cols[n], np.float64) for n in names]) if names
            else np.zeros((m, 1)))
    sl, tp, size = pack_levels(strat, cols, m, settings)
    return BatchPlan(resolved, keys, parts, np.ascontiguousarray(vals), sl, tp, size)


def pack_batch(strat: Strategy, resolved: list[dict[str, Any]],
               cols: Mapping[str, np.ndarray], index_of, settings: BacktestSettings
               ) -> PackedBatch:
    """The kernel arrays; ``index_of(keys)`` makes sure a bank holds the keys and returns
    their rows (``IndicatorBank.rows_of``)."""
    return plan_batch(strat, resolved, cols, settings).pack(index_of)
