"""Kill -9 mid-run and resume; the evolve/evolution command-line contract; background jobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy.exc import OperationalError

from engine import evolution as ev
from engine.errors import ParameterError

METRIC_KEYS = {"total_return_pct", "max_drawdown_pct", "sharpe", "win_rate_pct",
               "profit_factor", "n_trades", "final_equity"}


def _cli(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def _pop(run_id):
    return [(i.uid, i.island, i.params, i.fitness) for i in ev.population(run_id)]


def test_kill_and_resume_loses_at_most_the_generation_in_flight(goog_path):
    args = ["evolve", "--data", goog_path, "--population", "16", "--generations", "100000",
            "--seed", "11", "--backend", "inline", "--threshold", "none", "--json"]
    # far more generations than it can run before the kill: it never finishes first
    proc = subprocess.Popen([sys.executable, "-m", "engine", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = -1
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                runs = ev.list_runs()
            except OperationalError:  # the child holds the SQLite write lock: poll again
                runs = []
            if runs and runs[0].generations_done >= 2 and runs[0].status == "running":
                seen = runs[0].generations_done
                os.kill(proc.pid, signal.SIGKILL)
                break
            assert proc.poll() is None, "the run finished before it could be killed"
            time.sleep(0.01)
    finally:
        proc.wait(10)
    assert seen >= 2
    run = ev.get_run(1)  # the dead owner is detected
    assert run.status == "interrupted"
    kept = run.generations_done
    assert kept >= seen  # nothing committed was lost; only the generation in flight
    pops = {g: len(ev.population(1, g)) for g in range(kept + 1)}
    assert all(pops[g] == 16 for g in range(kept + 1))
    with pytest.raises(ParameterError, match=rf"run 1 has no generation {kept + 1}: its stored "
                                             rf"generations are 0 to {kept};"):
        ev.population(1, kept + 1)  # the generation in flight was never stored
    out = json.loads(_cli("evolve", "--resume", "1", "--generations", "2", "--json").stdout)
    assert out["generations_done"] == kept + 2
    # the target generation count does not steer the search: an uninterrupted run to the
    # same generation must give the very same population
    ref = ev.run_evolution(ev.EvolutionConfig(
        symbols=[goog_path], population_size=16, generations=kept + 2, seed=11,
        backend="inline", fitness_threshold=None))
    assert _pop(1) == _pop(ref.run_id)
    # (the CLI's rows also carry the run's data-snooping figures: engine.research)
    figures = ("pbo", "spa_pvalue", "min_backtest_years")
    assert [{k: v for k, v in h.items() if k not in figures} for h in out["history"]] == \
        ref.to_dict()["history"] and out["best"] == ref.to_dict()["best"]


def test_evolve_cli_contract_and_subcommands(goog_path):
    out = json.loads(_cli("evolve", "--data", goog_path, "--population", "8",
                          "--generations", "1", "--seed", "42", "--backend", "inline",
                          "--json").stdout)
    assert set(out) == {"run_id", "generations_done", "evaluations", "seconds", "split", "best",
                        "history", "pbo", "spa_pvalue", "min_backtest_years"}
    assert set(out["split"]) == {"in_sample_end", "out_of_sample_start"}
    assert set(out["best"]) == {"params", "fitness", "in_sample", "out_of_sample"}
    assert len(out["best"]["params"]) == 15
    assert METRIC_KEYS <= set(out["best"]["in_sample"]) and \
        METRIC_KEYS <= set(out["best"]["out_of_sample"])
    assert [set(h) for h in out["history"]] == [
        {"generation", "best", "mean", "worst", "diversity", "pbo", "spa_pvalue",
         "min_backtest_years"}] * 2
    rid = str(out["run_id"])
    runs = json.loads(_cli("evolution", "list", "--json").stdout)
    assert runs[0]["id"] == out["run_id"] and runs[0]["status"] == "completed"
    hist = json.loads(_cli("evolution", "history", rid, "--json").stdout)
    assert hist == out["history"]
    uid = str(ev.get_run(out["run_id"]).best_uid)
    prom = json.loads(_cli("evolution", "promote", rid, uid, "--name", "cli-best",
                           "--force", "--json").stdout)
    assert prom["name"] == "cli-best" and prom["params"] == out["best"]["params"]
    reset = json.loads(_cli("evolution", "reset", rid, "--json").stdout)
    assert reset["status"] == "created" and reset["generations_done"] == 0


@pytest.mark.parametrize("args", [
    ["evolve", "--data", "NOPE", "--json"],
    ["evolve", "--data", "X", "--population", "2", "--json"],
    ["evolution", "history", "999", "--json"],
])
def test_errors_are_one_line_exit_2(args):
    p = _cli(*args, check=False)
    assert p.returncode == 2 and p.stderr.startswith("error: ") and p.stderr.count("\n") == 1


def test_background_job_on_the_shared_scheduler(small):
    from engine import scheduler as sch

    s = sch.create_scheduler()
    s.start()
    try:
        rid = ev.create_run(small(generations=2))
        job = ev.start_background(rid, sched=s)
        assert job == f"evolution-{rid}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and ev.get_run(rid).status != "completed":
            time.sleep(0.05)
        assert ev.get_run(rid).status == "completed"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
                r.status == "success" for r in sch.last_runs(job)):
            time.sleep(0.05)
        assert any(r.status == "success" for r in sch.last_runs(job))
    finally:
        s.shutdown(wait=True)
