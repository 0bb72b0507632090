"""One individual in full: stored metrics, recomputed backtests, overfitting verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.evolution import store
from engine.evolution.config import EvolutionConfig
from engine.evolution.overfitting import OverfittingReport, assess


@dataclass
class IndividualDetail:
    """Everything the Evolution page shows for one individual.

    ``in_sample_result`` / ``out_of_sample_result`` are fresh
    :class:`~engine.backtest.BacktestResult` objects (``equity`` frame with
    ``buy_hold_equity``, ``trades`` frame) recomputed with ``run_backtest`` (or
    ``run_portfolio`` for several symbols) on the run's windows; their metrics equal the
    stored ``in_sample`` / ``out_of_sample`` dicts.
    """

    run_id: int
    uid: int
    generation: int
    island: int
    born: int
    age: int
    parents: list[int]
    params: dict[str, Any]
    fitness: float
    objectives: dict[str, Any]
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any] | None
    split: dict[str, Any]
    in_sample_result: Any
    out_of_sample_result: Any
    buy_hold: dict[str, float | None]
    overfitting: OverfittingReport

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view (trades included; equity curves left out — use the results)."""
        def bt(res: Any) -> dict[str, Any] | None:
            return None if res is None else {"metrics": res.metrics,
                                             "trades": res.to_dict()["trades"]}
        return {
            "run_id": self.run_id, "uid": self.uid, "generation": self.generation,
            "island": self.island, "born": self.born, "age": self.age,
            "parents": self.parents, "params": self.params, "fitness": self.fitness,
            "objectives": self.objectives, "in_sample": self.in_sample,
            "out_of_sample": self.out_of_sample, "split": self.split,
            "in_sample_backtest": bt(self.in_sample_result),
            "out_of_sample_backtest": bt(self.out_of_sample_result),
            "buy_hold": self.buy_hold, "overfitting": self.overfitting.to_dict(),
        }


def backtest_window(frames: dict, params: dict[str, Any], cfg: EvolutionConfig):
    """The single backtest (or portfolio) of ``params`` on one window's frames."""
    from engine.backtest import run_backtest, run_portfolio
    from engine.evolution.evaluate import backtest_settings

    settings = backtest_settings(cfg)
    if len(frames) == 1:
        return run_backtest(next(iter(frames.values())), "genome", params, settings)
    return run_portfolio(frames, "genome", params, settings)


def get_individual(run_id: int, uid: int) -> IndividualDetail:
    """Load one individual (latest row of ``uid``) and recompute its backtests."""
    from engine.evolution.evaluate import load_windows

    row = store.individual_row(run_id, uid)
    run = store.get_run_row(run_id)
    cfg = EvolutionConfig(**run.config)
    windows = load_windows(cfg)
    params = dict(row.params)
    is_res = backtest_window(windows.frames["is"], params, cfg)
    oos_res = (backtest_window(windows.frames["oos"], params, cfg)
               if "oos" in windows.frames else None)
    eq = is_res.equity.get_column("equity").to_numpy()
    returns = eq[1:] / eq[:-1] - 1.0 if eq.size > 1 else np.empty(0)
    trials = [r.in_sample.get("sharpe") for r in store.all_evaluated(run_id)]
    report = assess(
        returns, [t for t in trials if t is not None], max(run.evaluations, len(trials)),
        float(is_res.metrics["periods_per_year"]), is_res.metrics.get("sharpe"),
        oos_res.metrics.get("sharpe") if oos_res is not None else None,
    )
    return IndividualDetail(
        run_id=run_id, uid=row.uid, generation=row.generation, island=row.island,
        born=row.born, age=row.age, parents=list(row.parents or []), params=params,
        fitness=row.fitness, objectives=dict(row.objectives or {}),
        in_sample=dict(row.in_sample), out_of_sample=row.out_of_sample,
        split=dict(run.split or {}), in_sample_result=is_res, out_of_sample_result=oos_res,
        buy_hold={"in_sample": is_res.metrics.get("buy_hold_return_pct"),
                  "out_of_sample": (oos_res.metrics.get("buy_hold_return_pct")
                                    if oos_res is not None else None)},
        overfitting=report,
    )
