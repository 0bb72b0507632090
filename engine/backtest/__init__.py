"""Backtesting: strategies, the compiled simulator, metrics, batches and sweeps.

Public names::

    run_backtest(data, strategy, params, settings) -> BacktestResult
    run_batch(data, strategy, param_sets, settings) -> BatchResult
    sweep(data, strategy, grid, settings) -> SweepResult
    sweep_holdout(data, strategy, grid, settings, holdout_fraction) -> HoldoutSweep
    run_portfolio(frames, strategy, params, settings, max_positions) -> BacktestResult
    PortfolioBatch(frames, strategy, settings).metrics(param_sets)   (per-symbol banks kept)
    run_signals(data, signals, settings) -> BacktestResult     (precomputed signals)
    returns_matrix(data, strategy, param_sets, settings) -> (T-1, N) per-bar returns
    buy_hold_returns(data) -> (T-1,) the benchmark's per-bar returns
    trade_levels(strategy, params, settings) -> (stop, target, size)  (genes vs settings)
    defined_metrics(metrics) -> metrics with undefined ones None   (for display)
    BacktestSettings, STRATEGIES, get_strategy, METRIC_NAMES, parse_grid

Modules: ``results`` (settings, result, trade table), ``runner`` (single and batch),
``sweeps``, ``portfolio``; the compiled side is ``step`` (the one per-bar step of the
execution semantics), ``kernel`` (signals, single simulation, metrics, batch),
``portfolio_kernel``, with every array layout named in ``enums``.
"""

from engine.backtest.defined import defined_metrics
from engine.backtest.holdout import HoldoutSweep, sweep_holdout
from engine.backtest.metrics import METRIC_NAMES
from engine.backtest.portfolio import PortfolioBatch, run_portfolio
from engine.backtest.results import BacktestResult, BacktestSettings
from engine.backtest.returns_matrix import buy_hold_returns, returns_matrix
from engine.backtest.runner import (
    BatchResult,
    run_backtest,
    run_batch,
    run_signals,
    trade_levels,
)
from engine.backtest.strategies import GENOME_PARAMS, STRATEGIES, get_strategy
from engine.backtest.sweeps import SweepResult, parse_grid, sweep

__all__ = [
    "BacktestResult",
    "BacktestSettings",
    "BatchResult",
    "GENOME_PARAMS",
    "HoldoutSweep",
    "METRIC_NAMES",
    "PortfolioBatch",
    "STRATEGIES",
    "SweepResult",
    "buy_hold_returns",
    "defined_metrics",
    "get_strategy",
    "parse_grid",
    "returns_matrix",
    "run_backtest",
    "run_batch",
    "run_portfolio",
    "run_signals",
    "sweep",
    "sweep_holdout",
    "trade_levels",
]
