"""The Ray backend gives the same populations as inline (a local Ray started here)."""

from __future__ import annotations

import pytest

from engine import evolution as ev

pytestmark = pytest.mark.slow


def test_ray_backend_equals_inline(small, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.delenv("STRATLAB_RAY_ADDRESS", raising=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        a = ev.run_evolution(small(backend="inline", generations=1, population_size=8))
        b = ev.run_evolution(small(backend="ray", generations=1, population_size=8, workers=2))
    finally:
        ray.shutdown()
    pa = [(i.uid, i.params, i.fitness, i.in_sample) for i in ev.population(a.run_id)]
    pb = [(i.uid, i.params, i.fitness, i.in_sample) for i in ev.population(b.run_id)]
    assert pa == pb and a.history == b.history
