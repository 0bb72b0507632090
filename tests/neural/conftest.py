"""Fixtures for the neural tests: one torch thread, tiny configs, planted data, a registry."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from pathlib import Path

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


# ------------------------------------------------------------------------------ registry

@dataclass
class _Info:
    version_id: str
    file_hash: str
    file_size: int
    file_path: str


def fake_registry_module() -> types.ModuleType:
    """The registry contract in a few lines (used when engine.registry is absent)."""
    from engine.errors import StratLabError
    from engine.neural.storage import integrity_error, sha256_file

    mod = types.ModuleType("engine.registry")
    versions: dict[str, _Info] = {}

    def register_version(*, model_name, model_type, file_path, metadata, performance_metrics,
                         created_by="user", parent_version=None, relationship="trained",
                         tags=None, description=""):
        vid = f"{model_type}-fake-{len(versions) + 1}"
        p = Path(file_path)
        versions[vid] = _Info(vid, sha256_file(p), p.stat().st_size, str(p))
        return versions[vid]

    def verify_file(version_id):
        info = versions.get(version_id)
        if info is None:
            raise StratLabError(f"no model version {version_id!r}")
        p = Path(info.file_path)
        if not p.is_file():
            raise StratLabError(f"the file of model version {version_id} is missing ({p})")
        if sha256_file(p) != info.file_hash:
            raise integrity_error(f"model version {version_id}: the hash does not match")
        return p

    mod.register_version, mod.verify_file, mod.versions = register_version, verify_file, versions
    return mod


@pytest.fixture
def registry(monkeypatch):
    """engine.registry — the real one when installed, else the fake above."""
    try:
        import engine.registry as reg
    except ModuleNotFoundError:
        reg = fake_registry_module()
        monkeypatch.setitem(sys.modules, "engine.registry", reg)
    return reg
