"""Issue 11: an evolution over several symbols (the portfolio path) evaluates through
``PortfolioBatch`` and still stores, for every individual, exactly ``run_portfolio``'s
metrics on its window — inline and on the worker pool alike."""

from __future__ import annotations

import pytest

from engine.backtest import run_portfolio
from engine.evolution import EvolutionConfig, population, run_evolution
from engine.evolution.evaluate import backtest_settings, load_windows


@pytest.mark.parametrize("backend", ["inline", "process"])
def test_portfolio_individuals_carry_run_portfolio_metrics(backend):
    cfg = EvolutionConfig(symbols=["SYN-TREND", "SYN-RANGE"], population_size=8,
                          generations=2, seed=21, elite_size=1, backend=backend, workers=2,
                          fitness_threshold=None)
    s = run_evolution(cfg)
    windows = load_windows(cfg)
    settings = backtest_settings(cfg)
    inds = population(s.run_id)
    assert len(inds) == 8
    for ind in inds[:4]:
        assert ind.in_sample == run_portfolio(windows.frames["is"], "genome", ind.params,
                                              settings).metrics
        assert ind.out_of_sample == run_portfolio(windows.frames["oos"], "genome", ind.params,
                                                  settings).metrics


def test_portfolio_runs_agree_across_backends():
    def run(backend):
        s = run_evolution(EvolutionConfig(symbols=["SYN-TREND", "SYN-RANGE"],
                                          population_size=6, generations=2, seed=8,
                                          elite_size=1, backend=backend, workers=2,
                                          fitness_threshold=None))
        return [(i.uid, i.params, i.fitness) for i in population(s.run_id)]

    assert run("inline") == run("process")
