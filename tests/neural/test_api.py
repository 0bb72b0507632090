"""The package surface, the strategy rule and the baselines."""

from __future__ import annotations

import numpy as np
import polars as pl

import engine.neural as neural
from engine.neural.baseline import LogisticBaseline, majority_class
from engine.neural.strategy import backtest_signals, signals_from_proba


def test_public_names():
    # loading and registering by version id are the registry's (engine.registry)
    assert sorted(neural.__all__) == sorted([
        "CLASS_NAMES", "FEATURE_NAMES", "TrainConfig", "make_config", "TrainResult",
        "LoadedModel", "train_model", "load_model_file", "predict", "predict_proba",
        "DEFAULT_MIN_WINDOW_BARS", "DEFAULT_WINDOW_DAYS", "Window", "context_bars",
        "evaluate_window", "last_bars_window", "newest_window", "score_predictions",
        "training_config", "window_equity",
        "start_training_job", "get_training_run", "list_training_runs",
        "create_training_run", "set_torch_threads"])
    for name in neural.__all__:
        assert getattr(neural, name) is not None
    assert neural.CLASS_NAMES == ("sell", "hold", "buy")


def test_buy_enters_sell_exits_with_a_probability_threshold():
    p = np.array([[0.1, 0.2, 0.7],   # buy, confident
                  [0.2, 0.3, 0.5],   # buy, below 0.6
                  [0.6, 0.3, 0.1],   # sell, confident
                  [0.2, 0.6, 0.2],   # hold
                  [0.45, 0.1, 0.45]])  # tie → sell (lower index), below 0.6
    assert signals_from_proba(p).tolist() == [1, 1, -1, 0, -1]
    assert signals_from_proba(p, 0.6).tolist() == [1, 0, -1, 0, 0]


def test_model_strategy_runs_on_the_backtest_kernel():
    from engine.market import generate_synthetic

    data = generate_synthetic(100, seed=2)
    sig = np.zeros(60, np.int8)
    sig[5], sig[30] = 1, -1
    res = backtest_signals(data, 40, sig, name="neural:test")
    assert res.trades.height == 1
    t = res.trades.row(0, named=True)
    assert t["entry_time"] == data["timestamp"][46] and t["exit_time"] == data["timestamp"][71]
    assert t["entry_price"] == data["open"][46]  # signal at close t, fill at open t+1


def test_logistic_baseline_learns_a_linear_rule_and_majority_class():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 10))
    y = np.where(x[:, 0] > 0.5, 2, np.where(x[:, 0] < -0.5, 0, 1))
    model = LogisticBaseline.fit(x, y)
    assert (model.predict(x) == y).mean() > 0.9
    np.testing.assert_allclose(model.predict_proba(x).sum(axis=1), 1.0)
    assert majority_class(np.array([1, 1, 2, 0, 1])) == 1
    assert pl.Series(model.predict(x)).n_unique() == 3
