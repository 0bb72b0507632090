"""Labels, the chronological split with its gap, no leakage, scaler fitted on train only."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from engine.errors import DataError
from engine.neural.dataset import (
    BUY,
    HOLD,
    SELL,
    chronological_split,
    first_window_end,
    make_labels,
    windows,
)
from engine.neural.features import WARMUP
from engine.neural.pipeline import prepare
from tests.neural.conftest import tiny


def test_labels_from_the_forward_return_against_the_threshold():
    close = np.array([100, 102, 100.5, 99, 100, 100])
    y = make_labels(close, horizon=1, threshold=0.01)
    # +2 % buy, -1.47 % sell, -1.49 % sell, +1.01 % buy, 0 % hold, undefined
    assert y.tolist() == [BUY, SELL, SELL, BUY, HOLD, -1]
    y2 = make_labels(close, horizon=2, threshold=0.01)
    assert y2.tolist() == [HOLD, SELL, HOLD, BUY, -1, -1]
    # a return exactly at the threshold is hold (strict comparisons)
    assert make_labels(np.array([100.0, 100.0, 100.0]), 1, 0.0).tolist() == [HOLD, HOLD, -1]


@pytest.mark.parametrize("horizon", [1, 5, 20])
def test_split_is_chronological_with_a_gap_of_the_horizon(horizon):
    sp = chronological_split(2000, sequence_length=60, horizon=horizon, val_fraction=0.15,
                             test_fraction=0.15)
    assert sp.train[0] == first_window_end(60) == WARMUP + 59
    assert sp.val[0] - sp.train[1] - 1 == horizon == sp.gap
    assert sp.test[0] - sp.val[1] - 1 == horizon
    assert sp.test[1] == 2000 - 1 - horizon  # the last labelled bar
    # the last training label reads close[train_end + h], before the first validation bar
    assert sp.train[1] + horizon < sp.val[0] and sp.val[1] + horizon < sp.test[0]
    sizes = sp.sizes()
    assert sizes["val"] == pytest.approx(sizes["test"], abs=1)
    assert sizes["train"] > 2 * sizes["val"]


def test_too_few_bars_is_a_clear_error():
    with pytest.raises(DataError, match="too few samples"):
        chronological_split(150, sequence_length=60, horizon=5, val_fraction=0.15,
                            test_fraction=0.15)


def test_windows_end_at_their_bar():
    feats = np.arange(30, dtype=float).reshape(15, 2)
    w = windows(feats, np.array([4, 14]), 3)
    assert w.shape == (2, 3, 2)
    assert w[0, -1].tolist() == [8, 9] and w[0, 0].tolist() == [4, 5]
    assert w[1, -1].tolist() == [28, 29]


def test_no_leakage_changing_data_after_the_split_point(planted):
    """Bars after train_end + horizon change: training samples and the scaler do not."""
    cfg = tiny()
    a = prepare(planted, cfg)
    sp = a["split"]
    cut = sp.train_end + cfg.horizon  # the last bar any training sample reads
    changed = planted.with_columns(
        pl.when(pl.int_range(pl.len()) > cut).then(pl.col(c) * 3.0).otherwise(pl.col(c))
        .alias(c) for c in ("open", "high", "low", "close", "volume"))
    b = prepare(changed, cfg)
    assert b["split"] == sp
    tr = sp.indices("train")
    np.testing.assert_array_equal(a["labels"][tr], b["labels"][tr])
    np.testing.assert_array_equal(windows(a["scaled"], tr, cfg.sequence_length),
                                  windows(b["scaled"], tr, cfg.sequence_length))
    np.testing.assert_array_equal(a["scaler"].mean, b["scaler"].mean)
    np.testing.assert_array_equal(a["scaler"].std, b["scaler"].std)
    # …while the test part did change (the check is not vacuous)
    te = sp.indices("test")
    assert not np.array_equal(a["features"][te], b["features"][te])


def test_changing_a_training_bar_does_change_the_training_part(planted):
    cfg = tiny()
    a = prepare(planted, cfg)
    t = a["split"].train_end - 10
    changed = planted.with_columns(
        pl.when(pl.int_range(pl.len()) == t).then(pl.col(c) * 1.2).otherwise(pl.col(c))
        .alias(c) for c in ("close", "high"))
    b = prepare(changed, cfg)
    assert not np.array_equal(a["scaler"].mean, b["scaler"].mean)


def test_scaler_is_fitted_on_the_training_rows_only(planted):
    cfg = tiny()
    p = prepare(planted, cfg)
    rows = p["features"][WARMUP: p["split"].train_end + 1]
    np.testing.assert_allclose(p["scaler"].mean, rows.mean(axis=0))
    np.testing.assert_allclose(p["scaler"].std, rows.std(axis=0))
    everything = p["features"][WARMUP:]
    assert not np.allclose(p["scaler"].mean, everything.mean(axis=0))
    z = p["scaled"][WARMUP: p["split"].train_end + 1]
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=0.05)
