"""An ensemble run as a strategy over history, before it is traded (the backtester's kernel).

``members`` are ``(strategy, params)`` pairs (a promoted strategy's name resolves to its
genes); their signals on ``data`` are voted (:mod:`engine.paper.ensemble`) and the votes run
through :func:`engine.backtest.run_signals` — what an ensemble sleeve trades.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from engine.backtest import BacktestResult, BacktestSettings, run_signals
from engine.errors import ParameterError


def backtest_ensemble(data: pl.DataFrame, members: Sequence[tuple[str, Mapping[str, Any]]],
                      settings: BacktestSettings | None = None, *, weighting: str = "equal",
                      window: int = 60, threshold: float = 0.5) -> BacktestResult:
    """Backtest the vote of ``members`` on ``data``."""
    from engine.paper.ensemble import vote
    from engine.paper.sources import signals_for, strategy_config

    if len(members) < 2:
        raise ParameterError("an ensemble needs at least two members")
    sigs = [signals_for("strategy", strategy_config({"strategy": s, "params": dict(p)}), data)
            for s, p in members]
    close = data.get_column("close").cast(pl.Float64).to_numpy()
    votes = vote(sigs, close, weighting=weighting, window=window, threshold=threshold)
    return run_signals(data, votes, settings, name="ensemble",
                       params={"members": [[s, dict(p)] for s, p in members],
                               "weighting": weighting, "window": window,
                               "threshold": threshold})
