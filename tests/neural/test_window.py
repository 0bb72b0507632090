"""The numbers auto-retrain acts on, against hand-built windows worked out by hand.

``score_predictions`` gets known class probabilities on an 8-bar series;
``evaluate_window`` gets a stub model whose logits are constant (always "buy") on a 70-bar
zigzag, so its accuracy and return follow from counting. The backtest rules used: a signal
at bar t's close fills at bar t+1's open, all-in with whole shares (10,000 cash, no
commission), and the final equity marks an open position to the last close.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
import torch

from engine.errors import DataError, StratLabError
from engine.neural import (
    LoadedModel,
    TrainConfig,
    context_bars,
    evaluate_window,
    newest_window,
    score_predictions,
    training_config,
)
from engine.neural.features import FEATURE_NAMES, WARMUP
from engine.neural.scaler import Scaler

SELL, HOLD, BUY = [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]


def _frame(close: list[float], open_: list[float] | None = None) -> pl.DataFrame:
    close_a = np.asarray(close, dtype=np.float64)
    open_a = np.asarray(open_ if open_ is not None else np.r_[close_a[0], close_a[:-1]])
    t0 = datetime(2024, 1, 1)
    return pl.DataFrame({
        "timestamp": [t0 + timedelta(days=i) for i in range(len(close_a))],
        "open": open_a, "high": np.maximum(open_a, close_a) + 0.5,
        "low": np.minimum(open_a, close_a) - 0.5, "close": close_a,
        "volume": np.full(len(close_a), 1000.0),
    }).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))


def test_score_predictions_on_a_hand_built_window():
    close = [100, 102, 101, 105, 104, 110, 108, 112]
    open_ = [100, 100, 102, 100, 105, 104, 108, 108]
    data = _frame(close, open_)
    # labels, horizon 1, threshold 1 %: r = close[t+1]/close[t] - 1
    #   t2: 105/101-1 = +3.96 % buy   t3: 104/105-1 = -0.95 % hold   t4: 110/104-1 = +5.77 % buy
    #   t5: 108/110-1 = -1.82 % sell  t6: 112/108-1 = +3.70 % buy    t7: no label (last bar)
    ends = np.arange(2, 8)
    proba = np.array([BUY, HOLD, HOLD, SELL, BUY, HOLD])
    ev = score_predictions(data, ends, proba, horizon=1, threshold=0.01)
    # predicted buy, hold, hold, sell, buy on the 5 labelled bars: wrong only at t4 → 4/5
    assert ev["n"] == 5 and ev["n_bars"] == 6
    assert ev["accuracy"] == pytest.approx(0.8)
    # signals +1 (t2), 0, 0, -1 (t5), +1 (t6), 0:
    #   buy at t3's open 100 → 100 shares, cash 0; exit at t6's open 108 → cash 10,800;
    #   buy at t7's open 108 → 100 shares; last close 112 → equity 11,200 → +12 %
    assert ev["return_pct"] == pytest.approx(12.0)
    assert ev["buy_hold_return_pct"] == pytest.approx((112 / 101 - 1) * 100)  # window's first close


def test_score_predictions_without_known_labels_has_no_accuracy():
    data = _frame([100, 101, 102])  # horizon 5 is past the data: no bar has a label
    ev = score_predictions(data, np.array([1, 2]), np.array([HOLD, HOLD]), horizon=5,
                           threshold=0.01)
    assert ev["accuracy"] is None and ev["n"] == 0 and ev["n_bars"] == 2
    assert ev["return_pct"] == 0.0  # never in the market


class _AlwaysBuy(torch.nn.Module):
    """Logits (0, 0, 5) for every window: the model predicts "buy" on every bar."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor([0.0, 0.0, 5.0]).expand(x.shape[0], 3)


def _always_buy(seq_len: int = 5) -> LoadedModel:
    cfg = TrainConfig(symbol="HAND", model_type="lstm", horizon=1, threshold=0.005,
                      sequence_length=seq_len)
    n = len(FEATURE_NAMES)
    return LoadedModel(version_id="hand-1", model=_AlwaysBuy(), config=cfg, arch={},
                       scaler=Scaler(np.zeros(n), np.ones(n)), feature_names=FEATURE_NAMES,
                       file_hash="")


def _zigzag(n: int = 70) -> pl.DataFrame:
    # even t: 100 + t/2; odd t: that + 2 → steps +2, -1, +2, -1, ... ; open = previous close
    return _frame([100 + t // 2 + 2 * (t % 2) for t in range(n)])


def test_evaluate_window_of_a_stub_model_on_a_hand_built_zigzag():
    data, loaded = _zigzag(), _always_buy()
    ev = evaluate_window(loaded, data, start=data["timestamp"][60])
    # bars 60..69 are evaluated; labels (horizon 1, 0.5 %): from an even bar +2/c ≈ +1.5 %
    # → buy, from an odd bar -1/c ≈ -0.75 % → sell; bar 69 has none. Known: 60..68, 9 bars,
    # of which the 5 even ones (60, 62, 64, 66, 68) are "buy" → accuracy 5/9.
    assert ev["n_bars"] == 10 and ev["n"] == 9
    assert ev["accuracy"] == pytest.approx(5 / 9)
    # buy at bar 60's close, filled at bar 61's open = close[60] = 130: 76 shares (9,880),
    # cash 120; close[69] = 100 + 34 + 2 = 136 → equity 120 + 76·136 = 10,456 → +4.56 %
    assert ev["return_pct"] == pytest.approx(4.56)
    assert ev["buy_hold_return_pct"] == pytest.approx((136 / 130 - 1) * 100)
    # without a start: from the first bar with a full window, WARMUP + L - 1 = 53
    assert evaluate_window(loaded, data)["n_bars"] == 70 - (WARMUP + 5 - 1)


def test_evaluate_window_refuses_too_little_history_and_a_start_past_the_data():
    data, loaded = _zigzag(), _always_buy()
    with pytest.raises(DataError, match="too few to predict"):
        evaluate_window(loaded, data.head(50))
    with pytest.raises(DataError, match="no bars on or after"):
        evaluate_window(loaded, data, start=datetime(2030, 1, 1))


def test_newest_window_takes_the_policy_days_with_a_floor_of_bars():
    data = _zigzag()  # daily bars
    cfg = {"symbol": "HAND", "sequence_length": 5}
    # bars after last - 3 days: the last 3 (69, 68, 67)
    w = newest_window(cfg, window_days=3, min_bars=2, data=data)
    assert (w.start, w.n_bars) == (67, 3)
    assert w.bounds()["window_bars"] == 3 and w.start_time == data["timestamp"][67]
    # the history before it: WARMUP + sequence_length bars
    assert context_bars(cfg) == WARMUP + 5
    assert w.eval_data.height == 3 + WARMUP + 5
    assert newest_window(cfg, window_days=3, min_bars=10, data=data).n_bars == 10
    assert newest_window(cfg, window_days=3, min_bars=500, data=data).n_bars == 70


def test_training_config_names_the_fix_when_missing():
    assert training_config("v1", {"config": {"symbol": "X"}}) == {"symbol": "X"}
    with pytest.raises(StratLabError, match="v1 has no training configuration"):
        training_config("v1", {})
    with pytest.raises(StratLabError, match="with a symbol"):
        training_config("v1", {"config": {"symbol": ""}})
