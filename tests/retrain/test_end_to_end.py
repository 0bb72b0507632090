"""One real retrain through engine.neural: a tiny LSTM, deployed, retrained, gated."""

from __future__ import annotations

import pytest

from engine import registry, retrain
from engine.registry import models

# the real seams, captured before the autouse fixture replaces them with fakes
REAL = {name: getattr(models, name) for name in ("train_version", "evaluate_version",
                                                 "version_equity", "load_version")}


@pytest.mark.slow
def test_a_real_tiny_model_is_retrained_and_gated(monkeypatch):
    from engine.neural import TrainConfig

    for name, fn in REAL.items():
        monkeypatch.setattr(models, name, fn)
    cfg = TrainConfig(symbol="SYN-TREND", model_type="lstm", epochs=1, hidden_size=8,
                      num_layers=1, sequence_length=10, batch_size=64, end="2023-12-31")
    first = registry.train_version(cfg)
    dep = registry.deploy(first.version_id, "paper")
    assert dep.performance_snapshot["source"] == "window"  # evaluated on the newest bars
    [status] = retrain.check()
    assert status.error == "" and status.live_accuracy == pytest.approx(
        dep.performance_snapshot["accuracy"])
    assert status.triggers == []

    rec = retrain.retrain_now(first.version_id)
    assert rec.status in ("deployed", "kept"), rec.error
    new = registry.get_version(rec.new_version_id)
    assert new.parent_version == first.version_id
    assert new.metadata["config"]["end"] == rec.details["train_end"]
    assert rec.details["train_end"] < rec.details["window_start"]
    holdout_old, holdout_new = rec.old_metrics["holdout"], rec.new_metrics["holdout"]
    assert holdout_old["window_start"] == holdout_new["window_start"]
    ok, _ = retrain.quality_gate(holdout_old, holdout_new)
    current = registry.current_deployment("paper").version_id
    assert current == (new.version_id if ok else first.version_id)
    assert (rec.status == "deployed") is ok

    cmp = registry.compare(first.version_id, new.version_id, recompute_equity=True)
    assert not cmp["equity_errors"]
    for key in ("a", "b"):  # stored by training, or recomputed on the newest bars
        assert cmp["equity"][key] and len(cmp["equity"][key]["y"]) > 10
