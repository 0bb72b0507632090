"""Model files: registry round trip with the hash check, weights only, tampering refused."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import registry
from engine.errors import ModelIntegrityError, StratLabError
from engine.neural import evaluate_window, predict
from engine.neural.storage import FORMAT, load_checkpoint, model_dir, scaler_dir, version_dir
from engine.registry import load_version, train_version
from tests.neural.conftest import tiny


@pytest.fixture
def trained(planted):
    return train_version(tiny(epochs=3), data=planted), planted


def test_round_trip_through_the_registry(trained, isolated_lab):
    res, data = trained
    assert res.version_id
    path = Path(res.file_path)
    assert path.is_file() and path.parent == model_dir()
    assert model_dir() == isolated_lab / "models"
    assert len(res.file_hash) == 64 and res.file_size == path.stat().st_size
    assert list(scaler_dir().glob("*.json")) and list(version_dir().glob("*.neural.json"))
    loaded = load_version(res.version_id)
    assert loaded.config.model_type == "lstm" and loaded.file_hash == res.file_hash
    pred = predict(loaded, data)
    assert pred.columns == ["timestamp", "prob_sell", "prob_hold", "prob_buy", "label"]
    # the loaded model reproduces the test-period predictions made at training time
    n = len(res.predictions["timestamp"])
    tail = pred.tail(n)
    assert [t.strftime("%Y-%m-%dT%H:%M:%S") for t in tail["timestamp"]] == \
        res.predictions["timestamp"]
    np.testing.assert_allclose(tail["prob_buy"].to_numpy(), res.predictions["prob_buy"],
                               atol=1e-6)
    assert tail["label"].to_list() == res.predictions["label"]
    probs = pred.select("prob_sell", "prob_hold", "prob_buy").to_numpy().sum(axis=1)
    np.testing.assert_allclose(probs, 1.0, atol=1e-6)


def test_file_holds_only_tensors_and_plain_values(trained):
    res, _ = trained
    raw = Path(res.file_path).read_bytes()
    ckpt = torch.load(io.BytesIO(raw), weights_only=True)  # no pickled objects to run
    assert ckpt["format"] == FORMAT and isinstance(ckpt["state_dict"], dict)
    assert all(isinstance(v, torch.Tensor) for v in ckpt["state_dict"].values())
    assert ckpt["scaler"]["mean"].shape == (10,)


def test_a_tampered_file_is_refused(trained):
    res, _ = trained
    path = Path(res.file_path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelIntegrityError, match="hash does not match"):
        load_version(res.version_id)
    # the storage layer refuses it on its own too
    with pytest.raises(ModelIntegrityError, match="hash does not match"):
        load_checkpoint(path, res.file_hash)


def test_a_missing_file_is_a_clear_error(trained):
    res, _ = trained
    Path(res.file_path).unlink()
    with pytest.raises(StratLabError, match="missing"):
        load_version(res.version_id)


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    bad = tmp_path / "x.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(StratLabError, match="not a valid weights file"):
        load_checkpoint(bad)
    torch.save({"format": "something-else"}, bad)
    with pytest.raises(StratLabError, match="not a Strategy Lab neural model"):
        load_checkpoint(bad)


def test_storage_paths_from_the_environment(monkeypatch, tmp_path, planted):
    for var, sub in (("MODEL_STORAGE_PATH", "m"), ("SCALER_STORAGE_PATH", "s"),
                     ("VERSION_STORAGE_PATH", "v")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    res = train_version(tiny(epochs=1), data=planted)
    assert Path(res.file_path).parent == tmp_path / "m"
    assert list((tmp_path / "s").glob("*.json"))
    assert (tmp_path / "v" / f"{res.version_id}.neural.json").is_file()


def test_evaluate_window(trained):
    res, data = trained
    ev = registry.evaluate_version(res.version_id, data)
    assert set(ev) >= {"accuracy", "return_pct", "n"}
    assert 0 <= ev["accuracy"] <= 1 and ev["n"] > 0
    start = data["timestamp"][1000]
    ev2 = evaluate_window(load_version(res.version_id), data, start=start)
    assert ev2["n_bars"] == data.height - 1000
    assert ev2["n"] == ev2["n_bars"] - 3  # the last `horizon` bars have no label yet
    with pytest.raises(StratLabError, match="too few"):
        registry.evaluate_version(res.version_id, data.head(50))
