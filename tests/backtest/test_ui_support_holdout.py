"""sweep_holdout: ranked on the in-sample part only; each combination's out-of-sample
metrics are exactly a backtest of the same parameters on the held-out bars."""

from __future__ import annotations

import pytest

from engine.backtest import BacktestSettings, run_backtest, sweep_holdout
from engine.errors import ParameterError
from engine.market import generate_synthetic


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(500, seed=11)


def test_split_ranking_and_out_of_sample_metrics(bars):
    s = BacktestSettings(commission=0.001)
    hs = sweep_holdout(bars, "sma_cross", {"fast": [5, 10], "slow": [20, 40]}, s,
                       holdout_fraction=0.3, sort_by="total_return_pct")
    # 500 bars, 30 % held out: int(150) → 350 in-sample, 150 out-of-sample
    assert (hs.n_in_sample, hs.n_out_of_sample) == (350, 150)
    assert hs.in_sample_end == bars["timestamp"][349]
    assert hs.out_of_sample_start == bars["timestamp"][350]
    rets = [r["metrics"]["total_return_pct"] for r in hs.in_sample.results]
    assert rets == sorted(rets, reverse=True) and len(rets) == 4
    for r, o in zip(hs.in_sample.results, hs.out_of_sample, strict=True):
        assert o["params"] == r["params"]
        is_one = run_backtest(bars.head(350), "sma_cross", r["params"], s)
        oos_one = run_backtest(bars.slice(350), "sma_cross", r["params"], s)
        assert r["metrics"]["total_return_pct"] == pytest.approx(
            is_one.metrics["total_return_pct"], abs=1e-9)
        assert o["metrics"]["total_return_pct"] == pytest.approx(
            oos_one.metrics["total_return_pct"], abs=1e-9)
        assert o["metrics"]["n_trades"] == oos_one.metrics["n_trades"]
    row = hs.rows()[0]
    assert {"fast", "slow", "is_sharpe", "oos_sharpe"} <= set(row)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_a_fraction_outside_zero_one_is_refused(bars, fraction):
    with pytest.raises(ParameterError, match=r"holdout_fraction is the held-out share in"):
        sweep_holdout(bars, "sma_cross", {"fast": [5]}, holdout_fraction=fraction)


def test_too_few_bars_for_both_windows_is_refused(bars):
    with pytest.raises(ParameterError, match=r"each needs at least 20"):
        sweep_holdout(bars.head(30), "sma_cross", {"fast": [5]}, holdout_fraction=0.5)
