"""Grid sweeps: every combination of a parameter grid through one batch, best first.

``sweep --json`` prints :meth:`SweepResult.to_dict`; ``--grid KEY=START:STOP[:STEP]``
includes both ends (:func:`parse_grid`).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from engine.backtest.metrics import METRIC_NAMES
from engine.backtest.results import BacktestSettings
from engine.backtest.runner import run_batch
from engine.backtest.strategies import get_strategy
from engine.errors import ParameterError
from engine.progress import ProgressCallback

#: The default of the most combinations one sweep may run (a 10-million grid ends in
#: MemoryError, a trillion never ends); refused before any backtest starts. The setting
#: ``MAX_SWEEP_COMBINATIONS`` changes it; ``sweep(..., max_combinations=N)`` per call.
MAX_SWEEP_COMBINATIONS = 100_000


def parse_grid(spec: str) -> tuple[str, list[int | float]]:
    """``KEY=START:STOP[:STEP]`` → (key, values), both ends included.

    Integers stay integers (``fast=5:24`` is 20 values); any float part makes a float grid
    (``std=1.5:3.0:0.5`` is 1.5, 2.0, 2.5, 3.0). A single value ``KEY=V`` is a one-point grid.
    """
    if "=" not in spec:
        raise ParameterError(f"grid {spec!r} must look like KEY=START:STOP[:STEP], e.g. fast=5:24")
    key, rng = spec.split("=", 1)
    parts = rng.split(":")
    if not 1 <= len(parts) <= 3 or not key:
        raise ParameterError(f"grid {spec!r} must look like KEY=START:STOP[:STEP], e.g. fast=5:24")
    try:
        nums = [float(x) for x in parts]
    except ValueError:
        raise ParameterError(f"grid {spec!r}: START, STOP and STEP must be numbers") from None
    if not all(math.isfinite(x) for x in nums):
        raise ParameterError(f"grid {spec!r}: START, STOP and STEP must be finite numbers "
                             "(nan and inf are refused), e.g. fast=5:24")
    if len(nums) == 1:
        nums = [nums[0], nums[0], 1.0]
    elif len(nums) == 2:
        nums.append(1.0)
    a, b, step = nums
    if step <= 0 or b < a:
        raise ParameterError(f"grid {spec!r} needs START <= STOP and a positive STEP")
    is_int = all(x == int(x) for x in nums) and "." not in rng
    count = int(np.floor((b - a) / step + 1e-9)) + 1
    if count > 1_000_000:
        raise ParameterError(f"grid {spec!r} has {count} values; use a coarser STEP")
    values = [a + i * step for i in range(count)]
    if is_int:
        return key.strip(), [int(round(x)) for x in values]
    return key.strip(), [round(x, 10) for x in values]


@dataclass
class SweepResult:
    """A grid sweep: every valid combination, best first by ``sort_by``."""

    strategy: str
    grid: dict[str, list[int | float]]
    sort_by: str
    results: list[dict[str, Any]]
    n_backtests: int
    n_skipped: int
    seconds: float

    @property
    def backtests_per_second(self) -> float:
        return self.n_backtests / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "grid": self.grid,
            "sort_by": self.sort_by,
            "n_backtests": self.n_backtests,
            "n_skipped": self.n_skipped,
            "seconds": self.seconds,
            "backtests_per_second": self.backtests_per_second,
            "results": self.results,
        }


def sweep(
    data: pl.DataFrame,
    strategy: str,
    grid: Mapping[str, Sequence[int | float]],
    settings: BacktestSettings | None = None,
    *,
    base_params: Mapping[str, Any] | None = None,
    sort_by: str = "sharpe",
    on_progress: ProgressCallback | None = None,
    max_combinations: int | None = None,
) -> SweepResult:
    """Backtest every combination of ``grid`` (over ``base_params``), best first.

    Combinations that break a constraint (e.g. fast >= slow) are skipped and counted.
    A grid of more than ``max_combinations`` (default :data:`MAX_SWEEP_COMBINATIONS`)
    combinations, or with a value that is not a finite number, is refused before it starts.
    """
    if sort_by not in METRIC_NAMES:
        raise ParameterError(f"sort_by {sort_by!r} is not a metric; use one of {METRIC_NAMES}")
    strat = get_strategy(strategy)
    if not grid:
        raise ParameterError("a sweep needs at least one --grid KEY=START:STOP[:STEP]")
    for k in grid:
        if k not in strat.param_names:
            raise ParameterError(
                f"grid key {k!r} is not a parameter of {strat.name}; "
                f"valid: {', '.join(strat.param_names)}"
            )
    check_grid_size(grid, max_combinations)
    t0 = time.perf_counter()
    keys = list(grid)
    sets: list[dict[str, Any]] = []
    skipped = 0
    for combo in itertools.product(*(grid[k] for k in keys)):
        p = {**(base_params or {}), **dict(zip(keys, combo, strict=True))}
        try:
            sets.append(strat.resolve(p))
        except ParameterError:
            skipped += 1
    if not sets:
        raise ParameterError("every grid combination breaks a constraint (e.g. fast < slow)")
    batch = run_batch(data, strat.name, sets, settings, on_progress=on_progress,
                      chunk_size=max(256, len(sets) // 10), validated=True)
    records = batch.records()
    records.sort(key=lambda r: _sort_key(r["metrics"][sort_by]), reverse=True)
    return SweepResult(strat.name, {k: list(grid[k]) for k in keys}, sort_by, records,
                       len(sets), skipped, time.perf_counter() - t0)


def check_grid_size(grid: Mapping[str, Sequence[int | float]],
                    max_combinations: int | None = None) -> int:
    """The number of combinations of ``grid``; refused above the cap (default: the
    ``MAX_SWEEP_COMBINATIONS`` setting) or with a value that is not a finite number."""
    if max_combinations is None:
        from engine.config import get_settings

        max_combinations = get_settings().runtime.max_sweep_combinations
    cap = max_combinations
    for k, values in grid.items():
        for v in values:
            try:
                finite = math.isfinite(float(v))
            except (TypeError, ValueError):
                continue  # not a number: the strategy's own check names it
            if not finite:
                raise ParameterError(f"grid key {k!r} has the value {v!r}; every grid value "
                                     "must be a finite number (nan and inf are refused)")
    count = math.prod(len(v) for v in grid.values())
    if count > cap:
        sizes = " x ".join(f"{len(v):,} {k}" for k, v in grid.items())
        raise ParameterError(
            f"the grid has {count:,} combinations ({sizes}), above the cap of {cap:,} "
            "(MAX_SWEEP_COMBINATIONS); narrow a --grid range or use a coarser STEP, or raise "
            "the cap")
    return count


def _sort_key(x: float) -> float:
    return -np.inf if x is None or np.isnan(x) else x
