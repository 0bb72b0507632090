"""Fixtures for the neural tests: one torch thread, tiny configs, planted data."""

from __future__ import annotations

import pytest

from tests.neural.synthetic import planted_frame

ENV_VARS = ("MODEL_STORAGE_PATH", "SCALER_STORAGE_PATH", "VERSION_STORAGE_PATH", "EPOCHS",
            "BATCH_SIZE", "LEARNING_RATE", "SEQUENCE_LENGTH")


@pytest.fixture(autouse=True)
def _neural_env(monkeypatch):
    import torch

    torch.set_num_threads(1)
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def tiny(model_type: str = "lstm", **kw):
    """A config that trains in about a second on one CPU thread."""
    from engine.neural import TrainConfig

    base = dict(symbol="PLANT", model_type=model_type, horizon=3, threshold=0.01, epochs=8,
                batch_size=32, sequence_length=20, learning_rate=0.005, patience=3,
                hidden_size=16, num_layers=1, d_model=16, nhead=2, dim_feedforward=32,
                dropout=0.0)
    return TrainConfig(**(base | kw))


@pytest.fixture(scope="session")
def planted():
    return planted_frame(1200, seed=0)
