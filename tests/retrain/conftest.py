from __future__ import annotations

import pytest

from tests.registry.factories import FakeNeural


@pytest.fixture(autouse=True)
def fake(monkeypatch) -> FakeNeural:
    """engine.neural replaced by fakes (the one end-to-end test opts out)."""
    return FakeNeural(monkeypatch)
