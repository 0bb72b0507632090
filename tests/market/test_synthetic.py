"""The synthetic generator: valid for any seed, deterministic, regimes as planted."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ParameterError
from engine.market import DEFAULT_REGIMES, RegimeState, generate_synthetic, validate_frame
from tests.market._canon import assert_canonical


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3000),
       s0=st.floats(0.5, 5000.0), freq=st.sampled_from(["1d", "1h", "5m", "1w"]))
def test_any_seed_gives_a_valid_canonical_frame(seed, n, s0, freq):
    df = generate_synthetic(n, seed=seed, s0=s0, freq=freq)
    assert df.height == n
    assert_canonical(df)
    _, rep = validate_frame(df)
    assert rep.rejected == 0 and rep.n_gaps == 0


def test_same_seed_same_frame_other_seed_other_frame():
    a = generate_synthetic(500, seed=7)
    assert a.equals(generate_synthetic(500, seed=7))
    assert not a.equals(generate_synthetic(500, seed=8))


def test_daily_uses_business_days():
    df = generate_synthetic(10, seed=1, start="2024-01-05")
    assert df["timestamp"][0] == datetime(2024, 1, 5)
    assert df["timestamp"][1] == datetime(2024, 1, 8)  # Friday → Monday
    assert (df["timestamp"].dt.weekday() <= 5).all()


def test_true_regimes_follow_their_parameters():
    df = generate_synthetic(100_000, seed=3, with_regimes=True)
    assert set(df["true_regime"].unique()) == {r.name for r in DEFAULT_REGIMES}
    stats = (
        df.with_columns(r=pl.col("close").log().diff())
        .group_by("true_regime")
        .agg(pl.col("r").mean().alias("mu"), pl.col("r").std().alias("sd"),
             (pl.col("volume").log().mean()).alias("lv"))
    )
    s = {row["true_regime"]: row for row in stats.iter_rows(named=True)}
    assert s["bull"]["mu"] > 0 > s["bear"]["mu"]
    assert s["high_volatility"]["sd"] > 2 * max(s[k]["sd"] for k in ("bull", "bear", "sideways"))
    assert s["sideways"]["sd"] < s["bull"]["sd"]
    # Volume rises with absolute returns.
    r = df.select(pl.corr(pl.col("close").log().diff().abs(), pl.col("volume"))).item()
    assert r > 0.3
    # Spell lengths average near the configured durations (geometric, mean = duration).
    runs = df.select(pl.col("true_regime").rle()).unnest("true_regime")
    mean_len = runs.group_by("value").agg(pl.col("len").mean())
    got = dict(zip(mean_len["value"], mean_len["len"], strict=True))
    for r_ in DEFAULT_REGIMES:
        assert got[r_.name] == pytest.approx(r_.duration, rel=0.25)


def test_custom_regimes_and_single_state():
    calm = (RegimeState("sideways", 0.0, 0.05, 10),)
    df = generate_synthetic(300, seed=1, regimes=calm, with_regimes=True)
    assert (df["true_regime"] == "sideways").all()
    assert_canonical(df.drop("true_regime"))


def test_a_million_bars_stay_canonical():
    # a long horizon compounds a million returns: prices must neither overflow nor reach 0,
    # and the business-day calendar must keep going (speed is for benchmarks, not here)
    df = generate_synthetic(1_000_000, seed=42)
    assert df.height == 1_000_000
    assert_canonical(df)
    assert df["close"].min() > 0 and np.isfinite(df["close"].max())
    assert (df["timestamp"].dt.weekday() <= 5).all()
    assert df.tail(5).equals(generate_synthetic(1_000_000, seed=42).tail(5))


@pytest.mark.parametrize(("kwargs", "msg"), [
    ({"n_bars": 0}, "n_bars"), ({"n_bars": 10, "s0": -1.0}, "s0"),
    ({"n_bars": 10, "freq": "1x"}, "unknown freq"),
    ({"n_bars": 10, "regimes": (RegimeState("x", 0, 0.1, 0.5),)}, "duration"),
])
def test_bad_arguments(kwargs, msg):
    with pytest.raises(ParameterError, match=msg):
        generate_synthetic(seed=1, **kwargs)
