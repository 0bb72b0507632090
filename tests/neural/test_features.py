"""Features: 10 documented columns, a warm-up, and nothing from the future."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.market import generate_synthetic
from engine.neural.features import FEATURE_DOCS, FEATURE_NAMES, WARMUP, compute_features

DATA = generate_synthetic(400, seed=7)
FULL = compute_features(DATA)


def test_ten_documented_features_with_a_warmup():
    assert len(FEATURE_NAMES) == 10 and set(FEATURE_DOCS) == set(FEATURE_NAMES)
    assert FULL.shape == (400, 10)
    assert np.isnan(FULL[:WARMUP]).all()
    assert np.isfinite(FULL[WARMUP:]).all()


def test_values_match_their_definitions():
    close = DATA["close"].to_numpy()
    t = 200
    assert FULL[t, 0] == pytest.approx(np.log(close[t] / close[t - 1]))
    assert FULL[t, 1] == pytest.approx(np.log(close[t] / close[t - 5]))
    lr = np.diff(np.log(close))
    assert FULL[t, 2] == pytest.approx(lr[t - 20:t].std())
    assert 0 <= FULL[t, 3] <= 1
    assert FULL[t, 6] == pytest.approx(close[t] / close[t - 19:t + 1].mean() - 1)
    assert FULL[t, 7] == pytest.approx(close[t - 9:t + 1].mean() / close[t - 49:t + 1].mean() - 1)
    vol = DATA["volume"].to_numpy()
    assert FULL[t, 8] == pytest.approx(vol[t] / vol[t - 19:t + 1].mean() - 1)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(min_value=1, max_value=399))
def test_features_use_only_past_bars(k):
    """The features of the first k bars do not change when later bars are known."""
    prefix = compute_features(DATA.head(k))
    np.testing.assert_array_equal(prefix, FULL[:k])


def test_changing_a_future_bar_leaves_earlier_rows_alone():
    import polars as pl

    t = 250
    changed = DATA.with_columns(
        pl.when(pl.int_range(pl.len()) > t).then(pl.col(c) * 1.5).otherwise(pl.col(c)).alias(c)
        for c in ("open", "high", "low", "close", "volume"))
    x = compute_features(changed)
    np.testing.assert_array_equal(x[: t + 1], FULL[: t + 1])
    assert not np.array_equal(x[t + 1:], FULL[t + 1:])
