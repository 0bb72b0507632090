"""Issue 11: the ``auto`` backend's rule (engine.evolution.evaluate.choose_backend)."""

from __future__ import annotations

import pytest

from engine.evolution import EvolutionConfig
from engine.evolution.evaluate import AUTO_PROCESS_WORK, choose_backend, load_windows


@pytest.fixture
def windows():
    # SYN-TREND with oos_fraction 0.3: the in-sample window has 1,826 bars
    return load_windows(EvolutionConfig(symbols=["SYN-TREND"], seed=1))


@pytest.mark.parametrize(("population", "islands", "cores", "expected"), [
    (50, 1, 2, "inline"),       # 50 × 1,826 = 91,300 bar-evaluations per generation
    (547, 1, 2, "inline"),      # 547 × 1,826 = 998,822: just below 1,000,000
    (548, 1, 2, "process"),     # 548 × 1,826 = 1,000,648
    (274, 2, 2, "process"),     # two islands of 274: the same 548 individuals
    (5_000, 1, 1, "inline"),    # one core: worker processes cannot pay off
])
def test_auto_uses_workers_only_for_big_generations_on_several_cores(
        windows, monkeypatch, population, islands, cores, expected):
    assert AUTO_PROCESS_WORK == 1_000_000
    assert windows.frames["is"]["SYN-TREND"].height == 1_826
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    cfg = EvolutionConfig(symbols=["SYN-TREND"], seed=1, population_size=population * islands,
                          islands=islands, migration_size=0)
    assert choose_backend(cfg, windows) == expected


def test_an_explicit_backend_is_kept_and_auto_is_the_default(windows):
    assert EvolutionConfig(symbols=["SYN-TREND"]).backend == "auto"
    for name in ("inline", "process"):
        cfg = EvolutionConfig(symbols=["SYN-TREND"], backend=name, population_size=5_000)
        assert choose_backend(cfg, windows) == name
