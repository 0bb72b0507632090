"""Fitness functions: in-sample backtest metrics → one number to maximise.

A fitness function takes the metrics dict of an in-sample backtest (the keys of
``engine.backtest.METRIC_NAMES``) and returns a float; larger is better. Selection only ever
sees in-sample metrics (the out-of-sample metrics are computed for reporting and never
passed here).

Built-in functions (``EvolutionConfig.fitness``):

==================  ========================================================================
name                formula
==================  ========================================================================
sharpe_score        **default.** ``tanh(P / 2)`` with P = sharpe_penalized below: the same
                    ranking squashed into (−1, 1) so the seed's FITNESS_THRESHOLD 0.8 means
                    "penalised Sharpe ≥ 2.2" (an excellent in-sample strategy)
sharpe_penalized    ``P = sharpe − max(0, −max_drawdown_pct − 20) / 20
                    − max(0, 10 − n_trades) / 10``: the annualised Sharpe ratio, minus 1 for
                    every 20 percentage points of drawdown beyond 20 %, minus up to 1 for
                    fewer than 10 trades (a genome that never trades scores at most −1)
sharpe              the annualised Sharpe ratio
total_return        ``total_return_pct / 100``
calmar              ``calmar`` (CAGR / |max drawdown|)
sortino             the annualised Sortino ratio
==================  ========================================================================

A non-finite metric value (e.g. the Sharpe ratio of a flat equity curve) counts as 0, and a
non-finite result becomes :data:`INVALID_FITNESS`.

User functions: :func:`register_fitness` (``register_fitness("mine", fn)``) or a
``"package.module:function"`` string naming any importable function with the same signature.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import ParameterError

FitnessFn = Callable[[Mapping[str, Any]], float]

#: The value given to a genome whose fitness is not a finite number.
INVALID_FITNESS = -1e9

DEFAULT_FITNESS = "sharpe_score"


def _m(metrics: Mapping[str, Any], key: str) -> float:
    v = metrics.get(key)
    if v is None:
        return 0.0
    v = float(v)
    return v if math.isfinite(v) else 0.0


def sharpe_penalized(metrics: Mapping[str, Any]) -> float:
    """Sharpe minus drawdown and too-few-trades penalties (see the module docstring)."""
    dd_pen = max(0.0, -_m(metrics, "max_drawdown_pct") - 20.0) / 20.0
    trade_pen = max(0.0, 10.0 - _m(metrics, "n_trades")) / 10.0
    return _m(metrics, "sharpe") - dd_pen - trade_pen


def sharpe_score(metrics: Mapping[str, Any]) -> float:
    """``tanh(sharpe_penalized / 2)`` — the default fitness (module docstring)."""
    return math.tanh(sharpe_penalized(metrics) / 2.0)


_REGISTRY: dict[str, FitnessFn] = {
    "sharpe_score": sharpe_score,
    "sharpe_penalized": sharpe_penalized,
    "sharpe": lambda m: _m(m, "sharpe"),
    "total_return": lambda m: _m(m, "total_return_pct") / 100.0,
    "calmar": lambda m: _m(m, "calmar"),
    "sortino": lambda m: _m(m, "sortino"),
}


def register_fitness(name: str, fn: FitnessFn) -> None:
    """Make ``fn(metrics) -> float`` available as ``EvolutionConfig(fitness=name)``.

    Registered functions live in this process only; runs that must survive a restart
    should name a ``"module:function"`` instead.
    """
    if not name or ":" in name:
        raise ParameterError(f"fitness name {name!r} must be non-empty and contain no ':'")
    if not callable(fn):
        raise ParameterError(f"fitness {name!r} must be callable as fn(metrics) -> float")
    _REGISTRY[name] = fn


def fitness_names() -> list[str]:
    """Names of the registered fitness functions (built-ins first)."""
    return list(_REGISTRY)


def get_fitness(name: str) -> FitnessFn:
    """The function for a registered name or an importable ``"module:function"``."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in name:
        mod, _, attr = name.partition(":")
        try:
            fn = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as exc:
            raise ParameterError(
                f"fitness {name!r} cannot be imported ({exc}); give an importable "
                "'package.module:function' taking the metrics dict"
            ) from None
        if not callable(fn):
            raise ParameterError(f"fitness {name!r} is not callable")
        return fn
    raise ParameterError(
        f"unknown fitness {name!r}; choose one of {', '.join(_REGISTRY)} or give "
        "'package.module:function'"
    )


def score(fn: FitnessFn, metrics: Mapping[str, Any]) -> float:
    """``fn(metrics)`` as a finite float (non-finite → :data:`INVALID_FITNESS`)."""
    try:
        v = float(fn(metrics))
    except (TypeError, ValueError):
        return INVALID_FITNESS
    return v if math.isfinite(v) else INVALID_FITNESS


def objective_values(metrics: Mapping[str, Any], names: list[str]) -> tuple[float, ...]:
    """The multi-objective vector (each maximised; non-finite → INVALID_FITNESS)."""
    out = []
    for n in names:
        v = metrics.get(n)
        v = float(v) if v is not None else math.nan
        out.append(v if math.isfinite(v) else INVALID_FITNESS)
    return tuple(out)
