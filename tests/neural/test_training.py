"""Training: a planted pattern is learnt, seeds reproduce, early stopping, accumulation."""

from __future__ import annotations

import numpy as np
import pytest

from engine.neural import train_model
from engine.neural.training import class_weights
from tests.neural.conftest import tiny


@pytest.mark.parametrize("model_type", ["lstm", "transformer"])
def test_tiny_model_learns_a_planted_pattern(planted, model_type):
    res = train_model(tiny(model_type), data=planted)
    m = res.metrics
    assert res.device == "cpu" and res.amp is False
    assert m["val_accuracy"] > 0.7  # chance is 1/3; majority class ~0.45
    assert m["accuracy"] > 0.7
    assert m["accuracy"] > m["majority_accuracy"] + 0.2
    assert res.samples_per_second > 0  # throughput is measured (speed: benchmarks/)
    assert len(res.history) == res.epochs_run >= 1
    first, best = res.history[0], res.history[res.best_epoch - 1]
    assert best["val_loss"] <= first["val_loss"]
    assert set(first) >= {"epoch", "train_loss", "val_loss", "train_acc", "val_acc"}
    # the test-period evaluation and the comparison the user always sees
    assert sum(map(sum, m["confusion_matrix"])) == m["n"]
    assert set(m["per_class"]) == {"sell", "hold", "buy"}
    assert 0 <= m["baseline_accuracy"] <= 1 and 0 <= m["majority_accuracy"] <= 1
    assert {"total_return_pct", "sharpe", "max_drawdown_pct", "n_trades"} <= set(res.backtest)
    assert "total_return_pct" in res.baseline_backtest
    assert res.buy_hold_return_pct == pytest.approx(res.backtest["buy_hold_return_pct"])
    n_bt = len(res.predictions["timestamp"])
    assert len(res.equity["model"]) == len(res.equity["baseline"]) == n_bt
    assert res.predictions["timestamp"][0] == res.split["test_dates"][0]


def test_same_seed_same_model_on_cpu(planted):
    a = train_model(tiny(epochs=3, dropout=0.1), data=planted)
    b = train_model(tiny(epochs=3, dropout=0.1), data=planted)
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.predictions["prob_buy"] == b.predictions["prob_buy"]
    assert a.file_hash == b.file_hash  # bit-identical weights
    c = train_model(tiny(epochs=3, dropout=0.1, seed=7), data=planted)
    assert c.predictions["prob_buy"] != a.predictions["prob_buy"]


def test_early_stopping_and_stop_request(planted):
    res = train_model(tiny(epochs=40, patience=1, learning_rate=0.05),
                      data=planted)
    assert res.stopped_early and res.epochs_run < 40
    assert res.best_epoch == res.epochs_run - 1  # one epoch without improvement
    seen = []
    res2 = train_model(tiny(epochs=10), data=planted,
                       on_epoch=lambda rec: seen.append(rec["epoch"]) or rec["epoch"] == 2)
    assert seen == [1, 2] and res2.epochs_run == 2


def test_gradient_accumulation_trains(planted):
    res = train_model(tiny(epochs=3, batch_size=16, grad_accum_steps=2),
                      data=planted)
    assert res.epochs_run == 3 and res.history[-1]["train_loss"] < res.history[0]["train_loss"]


def test_class_weights_are_inverse_frequency():
    w = class_weights(np.array([0, 1, 1, 1, 2, 2]))
    np.testing.assert_allclose(w, [6 / 3, 6 / 9, 6 / 6])
    assert class_weights(np.array([1, 1, 2]))[0] == 0.0  # absent class: no weight


def test_env_vars_set_the_seed_defaults(monkeypatch):
    from engine.errors import ParameterError
    from engine.neural import TrainConfig, make_config

    d = TrainConfig(symbol="X")
    assert (d.batch_size, d.learning_rate, d.epochs, d.sequence_length) == (32, 0.001, 50, 60)
    assert (d.hidden_size, d.resolved_num_layers(), d.d_model, d.nhead) == (128, 3, 128, 8)
    assert TrainConfig(symbol="X", model_type="transformer").resolved_num_layers() == 4
    for var, val in (("BATCH_SIZE", "64"), ("LEARNING_RATE", "0.0005"), ("EPOCHS", "7"),
                     ("SEQUENCE_LENGTH", "30")):
        monkeypatch.setenv(var, val)
    e = TrainConfig(symbol="X")
    assert (e.batch_size, e.learning_rate, e.epochs, e.sequence_length) == (64, 0.0005, 7, 30)
    monkeypatch.setenv("EPOCHS", "many")
    with pytest.raises(ParameterError, match="EPOCHS"):
        TrainConfig(symbol="X")
    with pytest.raises(ParameterError, match="multiple of nhead"):
        make_config(symbol="X", model_type="transformer", d_model=10, nhead=3, epochs=1)
