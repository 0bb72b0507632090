"""A sweep with a hold-out, as the evolution splits its data: the grid is ranked on the
in-sample part only, and every combination is then backtested on the held-out last part,
so the in-sample winner can be read beside how it did on bars it was not chosen on.

Built on the sweep API (:func:`engine.backtest.sweeps.sweep`, :func:`run_batch`): the same
kernel, settings and metrics; the out-of-sample window starts cold (its indicators warm up
inside it), like ``backtest --start <out_of_sample_start>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from engine.backtest.results import BacktestSettings
from engine.backtest.runner import run_batch
from engine.backtest.sweeps import SweepResult, sweep
from engine.errors import ParameterError
from engine.progress import ProgressCallback

#: Each window needs at least this many bars (a backtest needs 2; a shorter window says
#: nothing).
MIN_HOLDOUT_BARS = 20


@dataclass
class HoldoutSweep:
    """The in-sample sweep (best first) and, in the same order, each combination's
    out-of-sample metrics; the split's bar counts and boundary timestamps."""

    in_sample: SweepResult
    out_of_sample: list[dict[str, Any]]  # [{"params", "metrics"}], aligned with results
    holdout_fraction: float
    n_in_sample: int
    n_out_of_sample: int
    in_sample_end: datetime
    out_of_sample_start: datetime

    def rows(self) -> list[dict[str, Any]]:
        """One row per combination: its parameters, ``is_<metric>`` and ``oos_<metric>``."""
        out = []
        for r, o in zip(self.in_sample.results, self.out_of_sample, strict=True):
            row = dict(r["params"])
            row |= {f"is_{k}": v for k, v in r["metrics"].items()}
            row |= {f"oos_{k}": v for k, v in o["metrics"].items()}
            out.append(row)
        return out


def split_bars(n: int, holdout_fraction: float) -> int:
    """How many of ``n`` bars are in-sample when the last ``holdout_fraction`` is held out
    (the evolution's rule: ``n - int(n * fraction)``)."""
    if not 0 < holdout_fraction < 1:
        raise ParameterError(f"holdout_fraction is the held-out share in (0, 1), got "
                             f"{holdout_fraction!r} (0.3 holds out the last 30 %)")
    n_is = n - int(n * holdout_fraction)
    if min(n_is, n - n_is) < MIN_HOLDOUT_BARS:
        raise ParameterError(
            f"{n} bars split at {holdout_fraction:.0%} leave {n_is} in-sample and "
            f"{n - n_is} held-out bars; each needs at least {MIN_HOLDOUT_BARS}: widen the "
            "date range or change the held-out share")
    return n_is


def sweep_holdout(
    data: pl.DataFrame,
    strategy: str,
    grid: Mapping[str, Sequence[int | float]],
    settings: BacktestSettings | None = None,
    *,
    holdout_fraction: float = 0.3,
    base_params: Mapping[str, Any] | None = None,
    sort_by: str = "sharpe",
    on_progress: ProgressCallback | None = None,
    max_combinations: int | None = None,
) -> HoldoutSweep:
    """Sweep ``grid`` on all but the last ``holdout_fraction`` of ``data`` (ranked there
    by ``sort_by``), then backtest every combination on the held-out last part."""
    n_is = split_bars(data.height, holdout_fraction)
    is_data, oos_data = data.slice(0, n_is), data.slice(n_is)
    res = sweep(is_data, strategy, grid, settings, base_params=base_params, sort_by=sort_by,
                on_progress=on_progress, max_combinations=max_combinations)
    batch = run_batch(oos_data, res.strategy, [r["params"] for r in res.results], settings)
    ts = data.get_column("timestamp")
    return HoldoutSweep(res, batch.records(), holdout_fraction, n_is, data.height - n_is,
                        ts[n_is - 1], ts[n_is])
