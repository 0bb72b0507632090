"""A model sleeve trades a registry version's Buy/Hold/Sell rule as run_signals does."""

from __future__ import annotations

import numpy as np


def test_a_model_sleeve_trades_the_versions_rule(cli):
    from engine import registry
    from engine.backtest import BacktestSettings, run_signals
    from engine.market import load_dataset
    from engine.neural import TrainConfig, predict

    data = load_dataset("SYN-TREND", end="2020-12-31")
    cfg = TrainConfig(symbol="SYN-TREND", model_type="lstm", horizon=3, threshold=0.01,
                      epochs=2, batch_size=64, sequence_length=15, learning_rate=0.005,
                      patience=3, hidden_size=8, num_layers=1, dropout=0.0)
    vid = registry.train_version(cfg, data=data).version_id
    loaded = registry.load_version(vid)
    assert loaded.config.prob_threshold == 0.0  # so the rule is the most probable class
    cli("paper", "create", "b", "--cash", "10000", "--start", "2018-01-02",
        "--max-position-size", "1", "--daily-loss-limit", "none", "--correlation-limit",
        "none", "--breaker", "off", "--json")
    cli("paper", "add", "b", "m", "--symbols", "SYN-TREND", "--model", vid, "--json")
    cli("paper", "step", "b", "--to", "2020-12-31", "--json")
    paper = cli("paper", "trades", "b", "--json")
    # independently: the version's predicted labels (engine.neural.predict) as signals
    pred = predict(loaded, data)
    sig = np.zeros(data.height, np.int8)
    first = data.height - pred.height
    sig[first:] = np.select([pred["label"].to_numpy() == "buy",
                             pred["label"].to_numpy() == "sell"], [1, -1], 0)
    ts = data["timestamp"].to_numpy()
    sig[ts < np.datetime64("2018-01-02")] = 0
    bt = run_signals(data, sig, BacktestSettings(cash=10000)).to_dict()["trades"]
    assert len(bt) >= 10  # the tiny model trades (75 trades when this was written)
    assert [{k: v for k, v in t.items() if k not in ("sleeve", "symbol")} for t in paper] == bt
    assert cli("paper", "reconcile", "b", "m", "--json")["identical"] is True
