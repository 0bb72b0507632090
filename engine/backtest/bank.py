"""The indicator bank: every distinct indicator a batch needs, computed once.

A sweep over 1,000 SMA pairs needs perhaps 100 distinct SMAs, not 2,000; a GA generation
of 50 genomes shares most of its RSIs and Bollinger bands. The bank collects the distinct
:data:`~engine.backtest.strategies.IndicatorKey` values, computes them in one polars
``select`` (which runs the expressions in parallel) and hands the kernel a float64 matrix
(one row per indicator, NaN during warm-up) plus the key → row index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.market import indicators as ind


def indicator_expr(key: tuple) -> pl.Expr:
    """The polars expression for one bank key."""
    kind, *args = key
    if kind == "sma":
        return ind.sma("close", args[0])
    if kind == "std":
        return ind.rolling_std("close", args[0])
    if kind == "rsi":
        return ind.rsi("close", args[0])
    if kind == "vol_sma":
        return ind.volume_sma(args[0])
    if kind == "macd_line":
        return ind.ema("close", args[0]) - ind.ema("close", args[1])
    if kind == "macd_signal":
        return ind.macd("close", *args).signal
    if kind == "macd_hist":
        return ind.macd("close", *args).hist
    raise KeyError(f"unknown indicator key {key!r}")


@dataclass
class IndicatorBank:
    """A matrix of indicator rows over one dataset and the index of each key.

    A bank can be kept and grown: :meth:`ensure` appends only the keys it lacks, which is
    how an evolution re-uses most indicators from one generation to the next.
    """

    matrix: np.ndarray  # shape (n_indicators, n_bars), float64, NaN during warm-up
    index: dict[tuple, int]

    @classmethod
    def build(cls, data: pl.DataFrame, keys: Iterable[tuple]) -> IndicatorBank:
        bank = cls(np.empty((0, data.height)), {})
        bank.ensure(data, keys)
        return bank

    def ensure(self, data: pl.DataFrame, keys: Iterable[tuple], *,
               max_bytes: int | None = None) -> None:
        """Compute and append the keys not in the bank yet (one polars ``select``).

        With ``max_bytes``, a bank that would grow past it restarts from ``keys`` alone.
        """
        wanted = list(dict.fromkeys(keys))
        new = [k for k in wanted if k not in self.index]
        if not new:
            return
        if max_bytes is not None and (len(self.index) + len(new)) * data.height * 8 > max_bytes:
            self.matrix, self.index, new = np.empty((0, data.height)), {}, wanted
        frame = data.select(
            [indicator_expr(k).cast(pl.Float64).alias(f"k{i}") for i, k in enumerate(new)]
        )
        # nulls (warm-up) become NaN in to_numpy
        rows = frame.to_numpy(order="fortran").T
        base = len(self.index)
        self.matrix = np.ascontiguousarray(np.vstack([self.matrix, rows]) if base else rows)
        self.index.update({k: base + i for i, k in enumerate(new)})

    def __len__(self) -> int:
        return len(self.index)
