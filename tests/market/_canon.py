"""Shared assertion: a frame obeys the canonical OHLCV contract."""

from __future__ import annotations

import polars as pl

from engine.market import CANONICAL


def assert_canonical(df: pl.DataFrame) -> None:
    assert df.columns == CANONICAL
    assert df.schema["timestamp"] == pl.Datetime("us")
    assert df.schema["timestamp"].time_zone is None
    for c in CANONICAL[1:]:
        assert df.schema[c] == pl.Float64, c
    assert df.null_count().sum_horizontal().item() == 0
    num = df.select(CANONICAL[1:])
    assert num.select(pl.all().is_finite().all()).row(0) == (True,) * 5
    if df.height > 1:
        assert df["timestamp"].diff().drop_nulls().dt.total_microseconds().min() > 0
    assert (df["low"] > 0).all()
    assert (df["volume"] >= 0).all()
    ok = df.select(
        (pl.col("high") >= pl.max_horizontal("open", "close")).all().alias("h"),
        (pl.col("low") <= pl.min_horizontal("open", "close")).all().alias("l"),
    )
    assert ok.row(0) == (True, True)
