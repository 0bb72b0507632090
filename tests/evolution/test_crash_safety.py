"""Crash safety of evolution: workers die with their parent, stale pools are reaped, and a
fitness that fails is counted or stops the run (issue 9, items 10 and 11)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT, get_settings
from engine.processes import (
    current_owner,
    pid_running,
    process_start_time,
    reap_stale_pools,
    record_pool,
)

linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")


def _wait_for(predicate, limit: float, what: str):
    """Poll ``predicate`` until it returns something truthy, at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up after {limit:.0f}s waiting for {what}")


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().decode(errors="replace").rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(entry))
    return out


def _descendants(pid: int) -> set[int]:
    tree, todo, seen = _children(), [pid], set()
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _alive(pids) -> set[int]:
    return {p for p in pids if pid_running(p)}


@linux_only
@pytest.mark.slow
def test_kill_9_of_evolve_takes_its_workers_with_it():
    pools = get_settings().data_dir / "pools"
    cmd = [sys.executable, "-m", "engine", "evolve", "--data", "SYN-TREND", "--backend",
           "process", "--workers", "2", "--population", "8", "--generations", "100000",
           "--threshold", "none", "--json"]
    proc = subprocess.Popen(cmd, cwd=str(PROJECT_ROOT), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        record = _wait_for(lambda: proc.poll() is None and list(pools.glob("evolution-*.json")),
                           300, "the evolve process to start its worker pool")
        workers = {w["pid"] for w in json.loads(record[0].read_text())["workers"]}
        assert len(workers) == 2
        family = _descendants(proc.pid)  # workers, the forkserver, the resource tracker
        assert workers <= family
    finally:
        proc.kill()  # SIGKILL: no clean-up code runs in the evolve process
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    # the workers (and every other process the evolve started) end within seconds
    _wait_for(lambda: not _alive(family), 30, f"processes {sorted(_alive(family))} to end")


def _dead_owner() -> dict:
    """The owner record of a process that really ran and is gone now."""
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    started = _wait_for(lambda: process_start_time(p.pid), 10, "the owner to start")
    p.kill()
    p.wait(10)
    return {"pid": p.pid, "host": current_owner().host, "started": started}


@linux_only
def test_a_stale_pool_is_reaped_at_the_next_start(tmp_path):
    folder = tmp_path / "pools"
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _wait_for(lambda: process_start_time(worker.pid) and process_start_time(other.pid),
                  10, "the workers to start")
        stale = folder / "evolution-1-stale.json"
        folder.mkdir()
        stale.write_text(json.dumps({"kind": "evolution", "owner": _dead_owner(), "workers": [
            {"pid": worker.pid, "started": process_start_time(worker.pid)}]}))
        live = record_pool("evolution", [other.pid], folder=folder)  # owner: this process

        assert reap_stale_pools(folder) == [worker.pid]
        assert worker.wait(10) == -signal.SIGKILL
        assert not stale.exists()
        assert live.exists() and other.poll() is None  # a live owner's pool is left alone
    finally:
        for p in (worker, other):
            if p.poll() is None:
                p.kill()
                p.wait(10)


@linux_only
def test_a_reused_pid_is_never_killed(tmp_path):
    folder = tmp_path / "pools"
    folder.mkdir()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = _wait_for(lambda: process_start_time(bystander.pid), 10, "start")
        # the record names the bystander's pid with another start time: a reused pid
        (folder / "evolution-2-x.json").write_text(json.dumps({
            "kind": "evolution", "owner": _dead_owner(),
            "workers": [{"pid": bystander.pid, "started": started - 100.0}]}))
        assert reap_stale_pools(folder) == []
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait(10)


@linux_only
def test_a_worker_whose_parent_dies_exits_without_any_clean_up():
    # parent: starts a child that calls die_with_parent(), prints its pid, then sleeps;
    # the parent is killed with SIGKILL, so only the death signal / watchdog can end it
    child = (f"import os, sys, time; sys.path.insert(0, {str(PROJECT_ROOT)!r}); "
             "from engine.processes import die_with_parent; die_with_parent(); "
             "print(os.getpid(), flush=True); time.sleep(60)")
    parent = ("import subprocess, sys, time; "
              f"c = subprocess.Popen([sys.executable, '-c', {child!r}], stdout=sys.stdout); "
              "time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(proc.stdout.readline())
        assert pid_running(pid)
    finally:
        proc.kill()
        proc.wait(10)
    _wait_for(lambda: not pid_running(pid), 10, f"worker {pid} to end with its parent")


def test_the_worker_pool_is_reused_across_runs_and_its_record_goes_away_at_shutdown():
    """Issue 11: a second run finds the workers the first started (same pids, no start-up);
    the pool is written down while it lives and its record removed when it is shut down."""
    import json

    from engine.evolution import EvolutionConfig, create_run, evolve, pool

    def cfg(seed):
        return EvolutionConfig(symbols="SYN-TREND", population_size=4, generations=1,
                               backend="process", workers=1, seed=seed, elite_size=1)

    evolve(create_run(cfg(3)))
    first = pool.current_pool()
    assert first is not None and len(first.pids) == 1 and pid_running(first.pids[0])
    records = list(Path(get_settings().data_dir / "pools").glob("*.json"))
    workers = json.loads(records[0].read_text())["workers"]
    assert len(records) == 1 and [w["pid"] for w in workers] == first.pids
    evolve(create_run(cfg(4)))  # another seed, the same data: the same worker, loaded once
    assert pool.current_pool() is first and first.loaded == [first.loaded[0]]
    pool.shutdown_pool()
    assert pool.current_pool() is None
    assert list(Path(get_settings().data_dir / "pools").glob("*.json")) == []
    _wait_for(lambda: not pid_running(first.pids[0]), 10, "the worker to end at shutdown")


def test_a_pool_whose_worker_died_is_replaced_at_the_next_run():
    import os
    import signal

    from engine.evolution import EvolutionConfig, create_run, evolve, pool, population

    def run(seed):
        return evolve(create_run(EvolutionConfig(
            symbols="SYN-TREND", population_size=4, generations=1, backend="process",
            workers=1, seed=seed, elite_size=1)))

    a = run(5)
    dead = pool.current_pool().pids[0]
    os.kill(dead, signal.SIGKILL)
    _wait_for(lambda: not pid_running(dead), 10, "the worker to die")
    b = run(5)  # same seed: the same result from a fresh worker
    assert pool.current_pool().pids[0] != dead
    assert ([i.params for i in population(a.run_id)]
            == [i.params for i in population(b.run_id)])


# ------------------------------------------------------------ fitness failures (item 10)

def _always_raises(metrics):
    raise ValueError("boom: this fitness never works")


class _EveryFourth:
    """Raises on every fourth call (the call order is deterministic for a seed)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, metrics):
        self.calls += 1
        if self.calls % 4 == 0:
            raise KeyError("sharpe_x")
        return float(metrics["sharpe"] or 0.0)


def test_a_fitness_that_always_raises_fails_the_run_with_its_error(small):
    from engine.evolution import create_run, evolve, get_run, register_fitness
    from engine.evolution.runner import FitnessFailed

    register_fitness("always_raises", _always_raises)
    run_id = create_run(small(fitness="always_raises"))
    with pytest.raises(FitnessFailed, match=r"raised for every individual of generation 0 "
                                            r"\(12 of 12\), e\.g\. ValueError: boom"):
        evolve(run_id)
    info = get_run(run_id)
    assert info.status == "failed" and info.generations_done == 0
    assert info.error.startswith("the fitness 'always_raises' raised for every individual")
    assert "Traceback" not in info.error  # the fitness's error, not ours


def test_an_occasional_fitness_failure_is_counted_and_shown(small, capsys):
    from engine.cli import main
    from engine.evolution import create_run, evolve, population, register_fitness
    from engine.evolution.fitness import INVALID_FITNESS

    register_fitness("every_fourth", _EveryFourth())
    run_id = create_run(small(fitness="every_fourth", generations=1))
    summary = evolve(run_id)
    assert summary.status == "completed"
    # generation 0 evaluates 12 individuals: calls 4, 8 and 12 raise
    assert summary.history[0]["fitness_failures"] == 3
    assert summary.history[0]["fitness_error"] == "KeyError: 'sharpe_x'"
    assert summary.fitness_failures == sum(h.get("fitness_failures", 0)
                                           for h in summary.history) >= 3
    failed = [i for i in population(run_id, 0) if i.objectives.get("fitness_error")]
    assert len(failed) == 3 and {i.fitness for i in failed} == {INVALID_FITNESS}

    assert main(["evolution", "history", str(run_id), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["fitness_failures"] == 3
    assert {"generation", "best", "mean", "worst", "diversity"} <= set(rows[1])
    # the CLI's rows also carry the run statistics (issue 13; null where not computed)
    stats = ("pbo", "spa_pvalue", "min_backtest_years")
    assert all(k in r for r in rows for k in stats)
    assert [{k: v for k, v in r.items() if k not in stats} for r in rows] == \
        summary.to_dict()["history"]
