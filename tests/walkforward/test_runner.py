"""Running, persisting and resuming analyses; backends give the same result."""

from __future__ import annotations

import pytest

from engine import evolution as ev
from engine import walkforward as wf
from engine.errors import ParameterError, StratLabError


def test_public_names():
    assert sorted(wf.__all__) == sorted([
        "AnalysisInfo", "AnalysisNotFound", "Stitched", "WalkForwardConfig", "WindowInfo",
        "WindowSpan", "WindowTrading", "create_analysis", "document", "get_analysis",
        "job_id", "list_analyses", "run_analysis", "run_walkforward", "split_windows",
        "start_background", "stitched_curve",
    ])
    assert all(hasattr(wf, name) for name in wf.__all__)


def essence(info):
    """What must not depend on backend or interruptions: genes, metrics, summary."""
    return ([(w.window, w.seed, w.genes, w.fitness, w.in_sample, w.out_of_sample)
             for w in info.windows], info.result)


def test_windows_are_evolution_runs_on_their_in_sample_bars(small, goog):
    info = wf.run_walkforward(small())
    assert info.status == "completed" and info.windows_done == info.n_windows == 3
    ts = goog.get_column("timestamp")
    for w in info.windows:
        run = ev.get_run(w.evolution_run_id)
        assert run.name == f"walk-forward {info.id} window {w.window}"
        assert run.status == "completed" and run.generations_done == 2
        assert run.config["seed"] == 11 + w.window and run.config["oos_fraction"] == 0.0
        # 2148 bars, 300 + 3·120 = 660 used: s = 1488; window k's IS starts at s + 120·k
        assert w.is_start == ts[1488 + 120 * w.window] and w.is_bars == 300
        assert w.oos_start == ts[1788 + 120 * w.window] and w.oos_bars == 120
        # the chosen genes are the evolution's best, with its in-sample metrics
        assert w.genes == run.best["params"] and w.in_sample == run.best["in_sample"]
        eff = info.result["window_efficiency"][str(w.window)]
        want = wf.runner.efficiency(w.out_of_sample["cagr_pct"], w.in_sample["cagr_pct"])
        assert eff == want
    doc = wf.document(info)
    assert set(doc) == {"analysis_id", "symbol", "status", "anchored", "seconds", "windows",
                        "stitched", "efficiency", "gene_stability"}
    assert {"genes", "in_sample", "out_of_sample", "efficiency"} <= set(doc["windows"][0])


def test_resume_after_interruption_equals_an_uninterrupted_run(small):
    whole = wf.run_walkforward(small())

    def stop_after_first_window(done, total, message=""):
        if done == 1:
            raise KeyboardInterrupt  # Ctrl-C once window 0 is stored

    aid = wf.create_analysis(small())
    with pytest.raises(KeyboardInterrupt):
        wf.run_analysis(aid, on_progress=stop_after_first_window)
    cut = wf.get_analysis(aid)
    assert cut.status == "interrupted" and cut.windows_done == 1
    assert [w.finished for w in cut.windows] == [True, False, False]
    # window 1's evolution was also cut short in the middle: one generation of two
    ev.evolve(cut.windows[1].evolution_run_id, 1)
    assert ev.get_run(cut.windows[1].evolution_run_id).generations_done == 1
    resumed = wf.run_analysis(aid)
    assert resumed.status == "completed"
    assert essence(resumed) == essence(whole)


def test_same_seed_same_result_inline_and_process(small):
    a = wf.run_walkforward(small(backend="inline"))
    b = wf.run_walkforward(small(backend="process", workers=2))
    assert essence(a) == essence(b)
    c = wf.run_walkforward(small(backend="inline", seed=12))
    assert essence(c)[0][0][2] != essence(a)[0][0][2]  # another seed, other genes


def test_anchored_analysis_grows_its_in_sample_windows(small):
    info = wf.run_walkforward(small(anchored=True, windows=2))
    assert [w.is_bars for w in info.windows] == [300, 420]
    assert info.windows[0].is_start == info.windows[1].is_start


def test_a_completed_analysis_is_not_run_twice_in_the_background(small):
    info = wf.run_walkforward(small())
    with pytest.raises(StratLabError, match=r"already completed; create a new one"):
        wf.start_background(info.id)
    with pytest.raises(wf.AnalysisNotFound, match=r"no walk-forward analysis 999"):
        wf.get_analysis(999)


def test_changed_data_is_refused_on_resume(small, goog, goog_path):
    aid = wf.create_analysis(small())
    goog.slice(0, 2000).write_parquet(goog_path)  # the file now has other bars
    with pytest.raises(StratLabError, match=r"changed since it was created"):
        wf.run_analysis(aid)
    assert wf.get_analysis(aid).status == "failed"


@pytest.mark.parametrize(("kw", "message"), [
    (dict(windows=0), r"windows \(--windows\): must be 1..200, got 0"),
    (dict(is_bars=10), r"is_bars \(--is-bars\): must be at least 30 bars, got 10"),
    (dict(oos_bars=3), r"oos_bars \(--oos-bars\): must be at least 10 bars, got 3"),
    (dict(population_size=2), r"population_size \(--population\): must be at least 4"),
    (dict(symbol="A,B"), r"give one dataset symbol or file path"),
    (dict(evolution={"seed": 3}), r"evolution: sets seed; set those on the walk-forward"),
    (dict(evolution={"crossover_rate": 2}), r"crossover_rate.*probability in \[0, 1\]"),
    (dict(backend="gpu"), r"backend \(--backend\).*'gpu'"),
])
def test_bad_settings_name_the_field_and_the_fix(small, kw, message):
    with pytest.raises(ParameterError, match=message):
        small(**kw)


def test_too_few_bars_is_refused_at_creation(small):
    with pytest.raises(StratLabError, match=r"not enough bars for 20 windows"):
        wf.create_analysis(small(windows=20))
    assert wf.list_analyses() == []


def test_an_analysis_whose_process_died_shows_as_interrupted_and_resumes(small):
    import subprocess
    import sys

    from sqlalchemy import update

    from engine.db import session_scope
    from engine.walkforward.tables import WalkForwardAnalysis

    aid = wf.create_analysis(small(windows=2))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    with session_scope() as s:  # as a killed `walkforward` leaves it: running, owner gone
        s.execute(update(WalkForwardAnalysis).where(WalkForwardAnalysis.id == aid)
                  .values(status="running", owner_pid=int(dead.stdout)))
    assert wf.get_analysis(aid).status == "interrupted"
    assert wf.run_analysis(aid).status == "completed"
