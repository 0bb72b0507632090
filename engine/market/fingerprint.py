"""A short content hash of a frame, recorded with every run for reproducibility.

Why its own module: it is a pure function of a frame, needed by the store, the bundled
samples' manifest, backtest history and evolution checkpoints alike, so it depends on
nothing else in the package.
"""

from __future__ import annotations

import hashlib

import polars as pl


def dataset_fingerprint(df: pl.DataFrame) -> str:
    """A short SHA-256 of the frame's column names, types and values (reproducibility)."""
    h = hashlib.sha256()
    for name in df.columns:
        s = df[name]
        h.update(f"{name}:{s.dtype}:{s.len()};".encode())
        if s.dtype.is_temporal():
            s = s.dt.epoch("us") if isinstance(s.dtype, pl.Datetime) else s.cast(pl.Int64)
        arr = s.to_numpy()
        h.update(arr.tobytes() if arr.dtype != object else repr(arr.tolist()).encode())
    return h.hexdigest()[:16]
