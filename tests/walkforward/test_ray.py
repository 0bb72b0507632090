"""The Ray backend gives the same walk-forward as inline (a local Ray started here)."""

from __future__ import annotations

import pytest

from engine import walkforward as wf
from tests.walkforward.test_runner import essence

pytestmark = pytest.mark.slow


def test_ray_backend_equals_inline(small, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.delenv("STRATLAB_RAY_ADDRESS", raising=False)
    a = wf.run_walkforward(small(backend="inline", windows=2))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        b = wf.run_walkforward(small(backend="ray", windows=2))
    finally:
        ray.shutdown()
    assert b.status == "completed"
    assert essence(a) == essence(b)
