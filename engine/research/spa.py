"""Hansen's Superior Predictive Ability test and Romano–Wolf StepM against a benchmark.

Both come from the ``arch`` package (``arch.bootstrap.SPA`` and ``arch.bootstrap.StepM``),
called with **losses**: a strategy's loss on a bar is minus its return, so "lower loss than
the benchmark" means "higher return than buy-and-hold". The bootstrap is the stationary
bootstrap (Politis & Romano), seeded so the same inputs give the same p-values.

- :func:`spa_test`: the null is that no strategy in ``returns`` beats the benchmark on
  average. ``arch`` reports three p-values — ``lower`` (liberal), ``consistent`` (Hansen's
  recommended one) and ``upper`` (the conservative White's Reality Check-like bound).
  A small p-value is evidence that the best of them really beats buy-and-hold after
  accounting for having looked at all of them.
- :func:`stepm_test`: which individual strategies beat the benchmark, controlling the
  familywise error rate at ``size``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from engine.errors import ParameterError

__all__ = ["SPAResult", "StepMResult", "spa_test", "stepm_test"]


@dataclass(frozen=True)
class SPAResult:
    """The three p-values arch's SPA documents, and how they were bootstrapped."""

    lower: float
    consistent: float
    upper: float
    n_models: int
    n_bars: int
    reps: int
    block_size: int
    seed: int
    labels: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StepMResult:
    """The labels of the strategies StepM finds superior to the benchmark."""

    superior: list[Any]
    size: float
    n_models: int
    reps: int
    block_size: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _losses(returns: np.ndarray, benchmark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim == 1:
        r = r[:, None]
    b = np.asarray(benchmark, dtype=np.float64).reshape(-1)
    if r.ndim != 2 or r.shape[0] != b.shape[0]:
        raise ParameterError(f"the strategies' returns {r.shape} and the benchmark's "
                             f"{b.shape} must have one row per bar each; give the same bars")
    if r.shape[0] < 10 or r.shape[1] < 1:
        raise ParameterError(f"SPA needs at least 10 bars and 1 strategy, got {r.shape}; "
                             "give a longer window")
    if not (np.isfinite(r).all() and np.isfinite(b).all()):
        raise ParameterError("the returns have NaN or infinite values; give finite returns")
    return -r, -b


def _labels(labels: list[Any] | None, k: int) -> list[Any]:
    out = list(labels) if labels is not None else list(range(k))
    if len(out) != k:
        raise ParameterError(f"{len(out)} labels for {k} strategies; give one per column")
    return out


def spa_test(returns: np.ndarray, benchmark: np.ndarray, *, labels: list[Any] | None = None,
             reps: int = 1000, block_size: int | None = None, seed: int = 0) -> SPAResult:
    """SPA of ``returns`` (T × k, or one column) against ``benchmark`` (T) (module doc).

    ``block_size`` None lets arch choose (√T); the one used is reported.
    """
    from arch.bootstrap import SPA

    models, bench = _losses(returns, benchmark)
    spa = SPA(bench, models, block_size=block_size, reps=reps, bootstrap="stationary",
              seed=seed)
    spa.compute()
    p = spa.pvalues
    return SPAResult(lower=float(p["lower"]), consistent=float(p["consistent"]),
                     upper=float(p["upper"]), n_models=models.shape[1],
                     n_bars=models.shape[0], reps=reps, block_size=int(spa.block_size),
                     seed=seed, labels=_labels(labels, models.shape[1]))


def stepm_test(returns: np.ndarray, benchmark: np.ndarray, *, labels: list[Any] | None = None,
               size: float = 0.05, reps: int = 1000, block_size: int | None = None,
               seed: int = 0) -> StepMResult:
    """The strategies (their ``labels``) StepM finds better than ``benchmark`` at ``size``."""
    from arch.bootstrap import StepM

    if not 0 < size < 1:
        raise ParameterError(f"StepM size must lie in (0, 1), got {size!r}; e.g. 0.05")
    models, bench = _losses(returns, benchmark)
    names = _labels(labels, models.shape[1])
    step = StepM(bench, models, size=size, block_size=block_size, reps=reps,
                 bootstrap="stationary", seed=seed)
    step.compute()
    superior = [names[int(i)] for i in step.superior_models]
    return StepMResult(superior=superior, size=size, n_models=models.shape[1], reps=reps,
                       block_size=int(step.block_size), seed=seed)
