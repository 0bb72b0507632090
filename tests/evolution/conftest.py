"""Fixtures for the evolution tests: GOOG as a file, small fast configs."""

from __future__ import annotations

import pytest


@pytest.fixture
def goog_path(goog, tmp_path):
    """GOOG daily written as a Parquet file (``--data`` accepts paths)."""
    path = tmp_path / "goog.parquet"
    goog.write_parquet(path)
    return str(path)


@pytest.fixture
def small(goog_path):
    """A factory of small, fast configs on GOOG (inline backend, no early stop)."""
    from engine.evolution import EvolutionConfig

    def make(**kw):
        base = dict(symbols=[goog_path], population_size=12, generations=2, seed=7,
                    backend="inline", fitness_threshold=None, elite_size=2)
        base.update(kw)
        return EvolutionConfig(**base)

    return make
