"""Where a sleeve's signals come from, by kind, and how its orders are executed.

- ``strategy``: ``{"strategy", "params", "stop_loss", "take_profit", "size", "short"}`` — any
  backtester strategy (a promoted genome's name resolves to ``genome`` and its genes), its
  signals those of :func:`engine.backtest.runner.compute_signals`;
- ``model``: ``{"version"}`` — a registry version's Buy/Hold/Sell rule on each bar with a full
  window (``signals_from_proba`` with the version's probability threshold), long only, as
  ``run_signals`` uses it;
- ``analyst``: ``{"provider", "every", "prompt", "short"}`` — the AI analyst asked every N
  bars per symbol as of each close (:mod:`engine.paper.analyst`): its decisions are made bar
  by bar during the replay, never computed ahead, and each trade takes the decision's size
  and stop-loss / take-profit prices;
- ``ensemble``: ``{"members": {name: {"kind", "config"}}, "weighting", "window",
  "threshold"}`` — the vote of :mod:`engine.paper.ensemble` over its members' signals on the
  same symbol (the members' definitions are copied when the ensemble is added).

Signals are computed on every stored bar (indicators are causal: the value at ``t`` uses
bars up to ``t``), so a sleeve's history before its start is its warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from engine.errors import ParameterError


@dataclass(frozen=True)
class Execution:
    """How the kernel executes a sleeve's orders (the backtest's settings)."""

    allow_short: bool
    stop_loss: float
    take_profit: float
    size: float
    max_positions: int


def strategy_config(config: dict[str, Any]) -> dict[str, Any]:
    from engine.backtest.named import resolve_named
    from engine.backtest.strategies import get_strategy

    name = str(config.get("strategy") or "")
    if not name:
        raise ParameterError("a strategy sleeve needs --strategy NAME (sma_cross, rsi, macd, "
                             "bollinger, genome or a promoted strategy)")
    params = dict(config.get("params") or {})
    named = resolve_named(name)
    base = name
    if named is not None:
        base, stored = named
        params = {**stored, **params}
    strat = get_strategy(base)
    resolved = {k: (v.item() if hasattr(v, "item") else v)
                for k, v in strat.resolve(params).items()}
    return {"strategy": base, "named": name if named else None, "params": resolved,
            "stop_loss": config.get("stop_loss"), "take_profit": config.get("take_profit"),
            "size": config.get("size"), "short": bool(config.get("short", False))}


def validate_config(kind: str, symbols: list[str], config: dict[str, Any],
                    sleeves: dict[str, Any]) -> dict[str, Any]:
    """The stored configuration of a new sleeve (resolved and checked)."""
    from engine.backtest import BacktestSettings
    from engine.market import get_dataset_info

    for sym in symbols:
        get_dataset_info(sym)  # DatasetNotFound names the known symbols
    BacktestSettings(stop_loss=config.get("stop_loss"), take_profit=config.get("take_profit"),
                     size=config.get("size"))  # the backtest's own checks and messages
    if kind == "strategy":
        return strategy_config(config)
    if kind == "analyst":
        from engine.paper.analyst import analyst_config

        return analyst_config(config)
    if kind == "model":
        from engine.registry import get_version

        version = str(config.get("version") or "")
        if not version:
            raise ParameterError("a model sleeve needs --model VERSION (see `models list`)")
        get_version(version)
        return {"version": version, "stop_loss": config.get("stop_loss"),
                "take_profit": config.get("take_profit"), "size": config.get("size"),
                "short": False}
    if kind == "ensemble":
        names = list(config.get("members") or [])
        if len(names) < 2:
            raise ParameterError("an ensemble needs at least two members: --ensemble S1,S2")
        members = {}
        for n in names:
            if n not in sleeves:
                raise ParameterError(f"ensemble member {n!r} is not a sleeve of this book "
                                     f"(known: {', '.join(sleeves) or 'none'}); add it first")
            if sleeves[n].kind in ("ensemble", "analyst"):
                raise ParameterError(f"ensemble member {n!r} is an {sleeves[n].kind} sleeve; "
                                     "members are strategy or model sleeves")
            members[n] = {"kind": sleeves[n].kind, "config": dict(sleeves[n].config)}
        weighting = str(config.get("weighting") or "equal")
        if weighting not in ("equal", "sharpe"):
            raise ParameterError(f"--weighting is equal or sharpe, got {weighting!r}")
        window = int(config.get("window") or 60)
        threshold = float(config.get("threshold") if config.get("threshold") is not None
                          else 0.5)
        if not 0 < threshold <= 1:
            raise ParameterError(f"the ensemble threshold is in (0, 1], got {threshold}")
        if window < 2:
            raise ParameterError(f"the Sharpe window needs at least 2 bars, got {window}")
        return {"members": members, "weighting": weighting, "window": window,
                "threshold": threshold, "stop_loss": config.get("stop_loss"),
                "take_profit": config.get("take_profit"), "size": config.get("size"),
                "short": bool(config.get("short", False))}
    raise ParameterError(f"unknown sleeve kind {kind!r}")


def signals_for(kind: str, config: dict[str, Any], frame: pl.DataFrame) -> np.ndarray:
    """The int8 signals of one sleeve definition on one symbol's bars."""
    if kind == "strategy":
        from engine.backtest.runner import compute_signals
        from engine.backtest.strategies import get_strategy

        strat = get_strategy(config["strategy"])
        return compute_signals(frame, strat, strat.resolve(config["params"]))
    if kind == "model":
        from engine.neural import predict_proba
        from engine.neural.strategy import signals_from_proba
        from engine.registry import load_version

        loaded = load_version(config["version"])
        ends, proba = predict_proba(loaded, frame, 0)
        sig = np.zeros(frame.height, np.int8)
        sig[ends] = signals_from_proba(proba, loaded.config.prob_threshold)
        return sig
    if kind == "analyst":
        raise ParameterError("an analyst sleeve's signals are its decisions, made bar by bar "
                             "in a replay; replay them as signals with "
                             "engine.paper.analyst_backtest(book, sleeve)")
    if kind == "ensemble":
        from engine.paper.ensemble import vote

        members = [signals_for(m["kind"], m["config"], frame)
                   for m in config["members"].values()]
        close = frame.get_column("close").cast(pl.Float64).to_numpy()
        return vote(members, close, weighting=config["weighting"], window=config["window"],
                    threshold=config["threshold"])
    raise ParameterError(f"unknown sleeve kind {kind!r}")


def execution_of(kind: str, config: dict[str, Any], n_symbols: int) -> Execution:
    """Stops, size, shorting and the slots of a sleeve, as its backtest would use them."""
    from engine.backtest import BacktestSettings
    from engine.backtest.runner import trade_levels
    from engine.backtest.strategies import get_strategy

    s = BacktestSettings(stop_loss=config.get("stop_loss"),
                         take_profit=config.get("take_profit"), size=config.get("size"))
    max_positions = 1
    if kind == "analyst":
        from engine.paper.analyst import LEVEL_SWITCH

        # levels and size come from each decision (engine.paper.analyst); the step only
        # needs positive stop fractions so that it checks them
        return Execution(bool(config.get("short", False)), LEVEL_SWITCH, LEVEL_SWITCH, 1.0,
                         n_symbols)
    if kind == "strategy":
        strat = get_strategy(config["strategy"])
        p = strat.resolve(config["params"])
        sl, tp, size = trade_levels(strat, p, s)
        if n_symbols > 1:
            max_positions = int(p.get("max_positions", n_symbols))
    else:
        sl, tp, size = s.stop_loss or 0.0, s.take_profit or 0.0, s.size or 0.0
        if n_symbols > 1:
            max_positions = n_symbols
    if n_symbols > 1 and size <= 0:
        size = 1.0 / max_positions  # as run_portfolio sizes
    return Execution(bool(config.get("short", False)), float(sl), float(tp), float(size),
                     max_positions)
