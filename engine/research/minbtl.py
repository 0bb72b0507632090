"""Minimum backtest length (Bailey, Borwein, López de Prado & Zhu, "Pseudo-Mathematics and
Financial Charlatanism", Notices of the AMS, 2014).

Trying N strategies with no skill, the best in-sample annualised Sharpe ratio is expected
to be about ``E[max] · sqrt(1/y)`` after y years, with (γ the Euler–Mascheroni constant)::

    E[max] ≈ (1 − γ) · Z⁻¹[1 − 1/N] + γ · Z⁻¹[1 − 1/(N·e)]

so a backtest needs at least::

    MinBTL ≈ (E[max] / SR)²   years

before an annualised Sharpe of ``SR`` (here 1) cannot be had from luck alone. The paper's
figures: 7 trials → 1.92 years, 45 trials → 5.0 years. One trial involves no selection
(MinBTL 0).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from engine.errors import ParameterError

__all__ = ["MinBTLCheck", "expected_max_z", "min_backtest_check", "min_backtest_years"]

EULER_GAMMA = 0.5772156649015329


def expected_max_z(n_trials: int) -> float:
    """E[max] of ``n_trials`` independent standard normals (the approximation above)."""
    from scipy.stats import norm

    if n_trials < 1:
        raise ParameterError(f"n_trials must be at least 1, got {n_trials!r}; count every "
                             "evaluated configuration")
    if n_trials == 1:
        return 0.0
    return float((1 - EULER_GAMMA) * norm.ppf(1 - 1 / n_trials)
                 + EULER_GAMMA * norm.ppf(1 - 1 / (n_trials * math.e)))


def min_backtest_years(n_trials: int, target_sharpe: float = 1.0) -> float:
    """Years of data before an annualised Sharpe of ``target_sharpe`` beats luck."""
    if not target_sharpe > 0:
        raise ParameterError(f"target_sharpe must be positive, got {target_sharpe!r}; "
                             "the paper uses 1")
    return (expected_max_z(n_trials) / target_sharpe) ** 2


@dataclass(frozen=True)
class MinBTLCheck:
    """MinBTL for a run's trials against the years of data it was selected on."""

    n_trials: int
    target_sharpe: float
    min_backtest_years: float
    data_years: float
    too_short: bool
    warning: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def min_backtest_check(n_trials: int, data_years: float,
                       target_sharpe: float = 1.0) -> MinBTLCheck:
    """:func:`min_backtest_years` and a warning when ``data_years`` is shorter."""
    need = min_backtest_years(n_trials, target_sharpe)
    short = data_years < need
    warning = (f"{n_trials} trials need at least {need:.2f} years of data before an annualised "
               f"Sharpe of {target_sharpe:g} can be told from luck; the in-sample data cover "
               f"{data_years:.2f} years" if short else None)
    return MinBTLCheck(n_trials=n_trials, target_sharpe=target_sharpe,
                       min_backtest_years=need, data_years=data_years, too_short=short,
                       warning=warning)
