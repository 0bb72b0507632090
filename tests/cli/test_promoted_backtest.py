"""A promoted evolution individual runs as a named strategy with the same metrics."""

from __future__ import annotations

import json

from engine.cli import main
from engine.evolution import EvolutionConfig, create_run, evolve, get_run, population, promote


def test_backtest_by_promoted_name_reproduces_the_in_sample_metrics(capsys, goog, tmp_path):
    path = tmp_path / "goog.csv"
    goog.write_csv(path)
    cfg = EvolutionConfig(symbols=[str(path)], population_size=8, generations=2, seed=7,
                          elite_size=2, backend="inline", fitness_threshold=None)
    run_id = create_run(cfg)
    evolve(run_id)
    best = max(population(run_id), key=lambda ind: ind.fitness)
    promote(run_id, best.uid, "goog-evolved-test", force=True)
    split = get_run(run_id).split

    code = main(["backtest", "--data", str(path), "--strategy", "goog-evolved-test",
                 "--end", split["in_sample_end"], "--json", "--no-save"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["strategy"] == "genome" and doc["params"] == best.params
    for key, value in best.in_sample.items():
        assert doc["metrics"][key] == value, key

    # an explicit --param still overrides a stored gene
    code = main(["backtest", "--data", str(path), "--strategy", "goog-evolved-test",
                 "--param", "stop_loss=0.09", "--json", "--no-save"])
    assert code == 0 and json.loads(capsys.readouterr()[0])["params"]["stop_loss"] == 0.09
