"""The named array layouts agree with the names the Python layer reports."""

from __future__ import annotations

import numpy as np

from engine.backtest import METRIC_NAMES, BacktestSettings, run_signals
from engine.backtest import enums as E
from engine.backtest.results import TRADE_SCHEMA


def test_every_metric_slot_is_named_after_its_metric():
    slots = {name: getattr(E, name) for name in dir(E) if name.startswith("M_")}
    assert sorted(slots.values()) == list(range(E.N_KERNEL_METRICS))
    for const, idx in slots.items():
        assert E.KERNEL_METRICS[idx] == const[2:].lower(), const
    assert METRIC_NAMES[: E.N_KERNEL_METRICS] == E.KERNEL_METRICS


def test_stat_and_position_slots_are_distinct_and_dense():
    for prefix, width in (("ST_", E.N_STATS), ("P_", E.N_POS_FIELDS)):
        values = sorted(getattr(E, n) for n in dir(E) if n.startswith(prefix))
        assert values == list(range(width)), prefix


def test_exit_codes_index_their_names():
    assert [E.EXIT_REASONS[c] for c in (E.EXIT_SIGNAL, E.EXIT_STOP_LOSS, E.EXIT_TAKE_PROFIT,
                                        E.EXIT_END)] == ["signal", "stop_loss",
                                                         "take_profit", "end"]


def test_trade_records_become_the_trade_table(goog):
    """Every record field lands in its column: buy at bar 0's close, sell at bar 10's, buy
    again at bar 20's and hold to the end (all-in whole units, no commission)."""
    assert E.new_trades(3).dtype == E.TRADE_DTYPE and E.new_trades(3).shape == (3,)
    sig = np.zeros(goog.height, np.int8)
    sig[[0, 10, 20]] = [1, -1, 1]
    res = run_signals(goog, sig, BacktestSettings(cash=100_000.0))
    t = res.trades
    assert list(t.columns) == list(TRADE_SCHEMA)
    o, c, ts = goog["open"], goog["close"], goog["timestamp"]
    units1 = np.floor(100_000.0 / o[1])
    cash1 = 100_000.0 - units1 * o[1] + units1 * o[11]
    units2 = np.floor(cash1 / o[21])
    last = goog.height - 1
    assert t["entry_time"].to_list() == [ts[1], ts[21]]
    assert t["exit_time"].to_list() == [ts[11], ts[last]]
    assert t["entry_price"].to_list() == [o[1], o[21]]
    assert t["exit_price"].to_list() == [o[11], c[last]]
    assert t["size"].to_list() == [units1, units2]
    assert t["pnl"].to_list() == [units1 * (o[11] - o[1]), units2 * (c[last] - o[21])]
    assert t["exit_reason"].to_list() == ["signal", "end"]
    assert t["commission"].to_list() == [0.0, 0.0]
    assert t["bars_held"].to_list() == [10, last - 21]
    np.testing.assert_allclose(t["return_pct"].to_numpy(),
                               100 * t["pnl"].to_numpy()
                               / (t["size"] * t["entry_price"]).to_numpy(), rtol=1e-12)
