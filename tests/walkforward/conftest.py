"""Fixtures for the walk-forward tests: GOOG as a file, small fast configurations."""

from __future__ import annotations

import pytest


@pytest.fixture
def goog_path(goog, tmp_path):
    """GOOG daily (2,148 bars) written as a Parquet file (``--data`` accepts paths)."""
    path = tmp_path / "goog.parquet"
    goog.write_parquet(path)
    return str(path)


@pytest.fixture
def small(goog_path):
    """A factory of small walk-forward configs on GOOG (3 windows, tiny evolutions)."""
    from engine.walkforward import WalkForwardConfig

    def make(**kw):
        base = dict(symbol=goog_path, windows=3, is_bars=300, oos_bars=120,
                    population_size=8, generations=2, seed=11, backend="inline",
                    evolution={"elite_size": 2})
        base.update(kw)
        return WalkForwardConfig(**base)

    return make
