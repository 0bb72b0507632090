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
    """A matrix of indicator rows over one dataset and the index of each key."""

    matrix: np.ndarray  # shape (n_indicators, n_bars), float64, NaN during warm-up
    index: dict[tuple, int]

    @classmethod
    def build(cls, data: pl.DataFrame, keys: Iterable[tuple]) -> IndicatorBank:
        distinct = list(dict.fromkeys(keys))
        if not distinct:
            return cls(np.empty((0, data.height)), {})
        frame = data.select(
            [indicator_expr(k).cast(pl.Float64).alias(f"k{i}") for i, k in enumerate(distinct)]
        )
        # nulls (warm-up) become NaN in to_numpy
        matrix = np.ascontiguousarray(frame.to_numpy(order="fortran").T)
        return cls(matrix, {k: i for i, k in enumerate(distinct)})

    def __len__(self) -> int:
        return len(self.index)
