"""Bundled sample datasets: synthetic, seeded, rebuilt by :func:`build_samples`.

Why synthetic: real market data usually may not be redistributed, yet the lab must be
useful offline on first run. Each sample is a regime-switching GBM series from
:func:`~engine.market.synthetic.generate_synthetic` over business days 2015-01-02 …
2024-12-31, written to ``data/samples/<SYMBOL>.parquet`` and described in
``data/samples/samples.json`` (symbol, description, seed, synthetic, the generator's
arguments and a fingerprint). Every sample is labelled synthetic in the catalogue.
``python -m engine data samples --rebuild`` regenerates them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from engine.config import get_settings
from engine.db import session_scope
from engine.market.synthetic import RegimeState, generate_synthetic
from engine.market.validation import validate_frame
from engine.tables import Dataset

MANIFEST = "samples.json"
START, END = "2015-01-02", "2024-12-31"
N_BARS = int(np.busday_count(START, "2025-01-01"))


def _regimes(bull: float, bear: float, side: float, hv: float,
             durations: tuple[float, float, float, float] = (120, 80, 100, 40)) -> tuple[RegimeState, ...]:
    return (
        RegimeState("bull", 0.25, 0.15, durations[0], bull),
        RegimeState("bear", -0.25, 0.22, durations[1], bear),
        RegimeState("sideways", 0.0, 0.10, durations[2], side),
        RegimeState("high_volatility", 0.0, 0.55, durations[3], hv),
    )


#: (symbol, seed, description, regimes) of every bundled sample.
SAMPLE_SPECS: list[tuple[str, int, str, tuple[RegimeState, ...]]] = [
    ("SYN-TREND", 20150102, "Synthetic data (not a real market): trending regime-switching "
     "GBM, long bull spells with shorter bear and sideways phases",
     _regimes(3.0, 1.0, 1.0, 0.3, (200, 90, 80, 30))),
    ("SYN-RANGE", 20150103, "Synthetic data (not a real market): mostly sideways, range-bound "
     "regime-switching GBM with brief trends",
     _regimes(1.0, 1.0, 4.0, 0.3, (60, 60, 250, 30))),
    ("SYN-VOLATILE", 20150104, "Synthetic data (not a real market): volatile regime-switching "
     "GBM with frequent high-volatility spells and sharp bear phases",
     _regimes(1.0, 1.5, 0.5, 2.0, (80, 80, 60, 90))),
]


def sample_frame(entry: dict[str, Any]) -> pl.DataFrame:
    """Regenerate one sample from its manifest entry (seed and generator arguments)."""
    regimes = tuple(RegimeState(**r) for r in entry["regimes"])
    return generate_synthetic(entry["n_bars"], seed=entry["seed"], start=entry["start"],
                              freq=entry.get("freq", "1d"), s0=entry.get("s0", 100.0),
                              regimes=regimes)


def build_samples(dest: str | Path | None = None) -> list[dict[str, Any]]:
    """(Re)write every sample's Parquet file and the manifest; return the manifest entries."""
    from engine.market.store import dataset_fingerprint

    out = Path(dest) if dest is not None else get_settings().samples_dir
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for symbol, seed, description, regimes in SAMPLE_SPECS:
        entry: dict[str, Any] = {
            "symbol": symbol, "description": description, "seed": seed, "synthetic": True,
            "n_bars": N_BARS, "start": START, "freq": "1d", "s0": 100.0,
            "regimes": [asdict(r) for r in regimes],
        }
        frame = sample_frame(entry)
        entry["fingerprint"] = dataset_fingerprint(frame)
        frame.write_parquet(out / f"{symbol}.parquet", statistics=True)
        entries.append(entry)
    (out / MANIFEST).write_text(json.dumps(entries, indent=2) + "\n")
    return entries


def read_manifest(samples_dir: Path | None = None) -> list[dict[str, Any]]:
    """The manifest entries ([] when the samples directory has none)."""
    path = (samples_dir or get_settings().samples_dir) / MANIFEST
    if not path.is_file():
        return []
    return json.loads(path.read_text())


_ensured: set[tuple[str, str]] = set()
_lock = threading.Lock()


def ensure_samples() -> None:
    """Register every bundled sample in the database once (idempotent, cheap after the first)."""
    settings = get_settings()
    key = (settings.database_url, str(settings.samples_dir))
    with _lock:
        if key in _ensured:
            return
        entries = read_manifest(settings.samples_dir)
        with session_scope() as s:
            existing = set(s.exec(select(Dataset.symbol)).all())
        new_rows = []
        for e in entries:
            path = settings.samples_dir / f"{e['symbol']}.parquet"
            if e["symbol"] in existing or not path.is_file():
                continue
            frame, report = validate_frame(pl.read_parquet(path), symbol=e["symbol"])
            new_rows.append(Dataset(
                symbol=e["symbol"], source="sample", synthetic=bool(e.get("synthetic", True)),
                path=str(path), timeframe=report.timeframe, n_rows=report.rows,
                start=report.start, end=report.end, n_rejected=report.rejected,
                report=report.to_dict(), description=e.get("description", ""),
            ))
        if new_rows:
            try:
                with session_scope() as s:
                    s.add_all(new_rows)
            except IntegrityError:  # another process registered them first: fine
                pass
        _ensured.add(key)
