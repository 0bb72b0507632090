"""A trained model as a strategy the foundation's backtester runs.

At the close of bar ``t`` the model sees the window ending at ``t`` (bars ``t−L+1 … t``) and
gives probabilities (sell, hold, buy). The signal is

- ``+1`` (Buy: enter long) when ``buy`` is the most probable class and
  ``prob_buy >= prob_threshold``;
- ``−1`` (Sell: exit) when ``sell`` is the most probable class and
  ``prob_sell >= prob_threshold``;
- ``0`` otherwise (keep whatever position is open).

The signals go through :func:`engine.backtest.run_signals` — the same compiled kernel and
execution rules as the rule strategies (fill at the next open, long only here), so a model's
metrics are directly comparable with theirs.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.backtest import BacktestResult, BacktestSettings, run_signals
from engine.neural.dataset import BUY, SELL


def signals_from_proba(proba: np.ndarray, prob_threshold: float = 0.0) -> np.ndarray:
    """int8 signals (+1 / −1 / 0) from ``(n, 3)`` class probabilities (see module)."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.size == 0:
        return np.zeros(0, np.int8)
    arg = proba.argmax(axis=1)
    sig = np.zeros(proba.shape[0], np.int8)
    sig[(arg == BUY) & (proba[:, BUY] >= prob_threshold)] = 1
    sig[(arg == SELL) & (proba[:, SELL] >= prob_threshold)] = -1
    return sig


def signals_from_labels(labels: np.ndarray) -> np.ndarray:
    """Signals from hard class predictions (baselines without probabilities)."""
    labels = np.asarray(labels, np.int64)
    return np.where(labels == BUY, 1, np.where(labels == SELL, -1, 0)).astype(np.int8)


def backtest_signals(data: pl.DataFrame, first_bar: int, signals: np.ndarray, *,
                     name: str, commission: float = 0.0, cash: float = 10_000.0
                     ) -> BacktestResult:
    """Backtest ``signals`` (one per bar from ``first_bar`` to the end) on those bars."""
    window = data.slice(first_bar)
    settings = BacktestSettings(cash=cash, commission=commission)
    return run_signals(window, signals, settings, name=name)
