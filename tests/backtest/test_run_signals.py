"""run_signals: precomputed signals (a model's) through the same kernel."""

import numpy as np
import pytest

from engine.backtest import BacktestSettings, run_backtest, run_signals
from engine.errors import ParameterError


def test_run_signals_equals_the_strategy_that_produced_them(goog):
    s = BacktestSettings(stop_loss=0.04, take_profit=0.12, commission=0.001, allow_short=True)
    ref = run_backtest(goog, "macd", None, s)
    got = run_signals(goog, ref.signals, s, name="model")
    assert got.metrics == ref.metrics
    assert got.trades.equals(ref.trades)
    assert got.strategy == "model"


@pytest.mark.parametrize(("sig", "msg"), [(np.zeros(3), "one value per bar"),
                                          (None, "-1, 0 or \\+1")])
def test_run_signals_rejects_bad_arrays(goog, sig, msg):
    if sig is None:
        sig = np.full(goog.height, 2)
    with pytest.raises(ParameterError, match=msg):
        run_signals(goog, sig)


def test_public_surface_is_pinned():
    import engine.backtest as bt

    assert sorted(bt.__all__) == sorted([
        "BacktestResult", "BacktestSettings", "BatchResult", "GENOME_PARAMS", "HoldoutSweep",
        "METRIC_NAMES", "STRATEGIES", "SweepResult", "get_strategy", "parse_grid",
        "PortfolioBatch", "run_backtest", "run_batch", "run_portfolio", "run_signals", "sweep",
        "sweep_holdout", "defined_metrics", "trade_levels", "returns_matrix",
        "buy_hold_returns"])
    assert all(hasattr(bt, name) for name in bt.__all__)
