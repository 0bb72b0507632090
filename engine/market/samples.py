"""Bundled sample datasets: two real indices first, then seeded synthetic series.

Real: ``SP500`` and ``NASDAQ``, 1999–2018 daily bars copied from the ``arch`` package's
example data (NCSA licence; see :mod:`engine.market.real_samples`). Synthetic: each
``SYN-*`` sample is a regime-switching GBM series from
:func:`~engine.market.synthetic.generate_synthetic` over business days 2015-01-02 …
2024-12-31, for tests and demos. Every sample is written to
``data/samples/<SYMBOL>.parquet`` and described in ``data/samples/samples.json`` (symbol,
description, ``synthetic``, a fingerprint; the seed and generator arguments of a
synthetic one; the source, licence and validation counts of a real one).

Why copies of the real data are shipped rather than read from arch at first run: every
sample then lives in one place, the samples directory (a lab stores their paths relative
to it), the fingerprints pin the exact bars a backtest history refers to (a later arch
release that changed its data fails a test instead of silently changing the default
dataset), and the lab opens on ``SP500`` even where arch cannot be imported. The copies
are ``validate_frame`` of arch's frames, byte for byte what an import would store.

On first use :func:`ensure_samples` validates every file (the same validation as an
import) and registers it with ``source="sample"``; labelled synthetic or real, with the
source and licence of a real one in its description and report.
``python -m engine data samples --rebuild`` regenerates them (offline).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from engine.config import get_settings
from engine.db import session_scope
from engine.market.fingerprint import dataset_fingerprint
from engine.market.real_samples import (
    LICENCE_FILE,
    REAL_SPECS,
    licence_text,
    manifest_entry,
    real_frame,
)
from engine.market.synthetic import RegimeState, generate_synthetic
from engine.market.validation import validate_frame
from engine.paths import to_stored
from engine.tables import Dataset

MANIFEST = "samples.json"
#: The dataset the app opens on when it is present.
DEFAULT_SYMBOL = "SP500"
START, END = "2015-01-02", "2024-12-31"
N_BARS = int(np.busday_count(START, "2025-01-01"))


def _regimes(bull: float, bear: float, side: float, hv: float,
             durations: tuple[float, float, float, float] = (120, 80, 100, 40),
             ) -> tuple[RegimeState, ...]:
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
    """Regenerate one synthetic sample from its manifest entry (seed and generator arguments)."""
    regimes = tuple(RegimeState(**r) for r in entry["regimes"])
    return generate_synthetic(entry["n_bars"], seed=entry["seed"], start=entry["start"],
                              freq=entry.get("freq", "1d"), s0=entry.get("s0", 100.0),
                              regimes=regimes)


def build_samples(dest: str | Path | None = None) -> list[dict[str, Any]]:
    """(Re)write every sample's Parquet file, arch's licence and the manifest; return its entries.

    Offline: the real samples come from the arch package's files, the synthetic ones from
    their seeds.
    """
    out = Path(dest) if dest is not None else get_settings().samples_dir
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for spec in REAL_SPECS:
        frame, report = real_frame(spec)
        entry = manifest_entry(spec, report)
        entry["fingerprint"] = dataset_fingerprint(frame)
        frame.write_parquet(out / f"{spec.symbol}.parquet", statistics=True)
        entries.append(entry)
    (out / LICENCE_FILE).write_text(licence_text())
    for symbol, seed, description, regimes in SAMPLE_SPECS:
        entry = {
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
            new_rows.append(_sample_row(e, path, settings.samples_dir))
        if new_rows:
            try:
                with session_scope() as s:
                    s.add_all(new_rows)
            except IntegrityError:  # another process registered them first: fine
                pass
        _ensured.add(key)


def sample_report(entry: dict[str, Any], path: Path) -> dict[str, Any]:
    """The stored quality report of a sample: its file validated like an import.

    A real sample's counts describe the rows arch shipped (``source_rows``, ``rejected`` and
    the reasons, recorded in the manifest when the copy was built) and it carries its
    ``provenance`` (source, licence); the notes of that validation become warnings.
    """
    _, report = validate_frame(pl.read_parquet(path), symbol=entry["symbol"])
    out = report.to_dict()
    if not entry.get("synthetic", True):
        for key in ("source_rows", "rejected", "rejected_by_reason"):
            if key in entry:
                out[key] = entry[key]
        out["warnings"] = list(entry.get("notes", [])) + out["warnings"]
        out["provenance"] = {"source": entry.get("source", ""), "licence": entry.get("licence", "")}
    return out


def _sample_row(entry: dict[str, Any], path: Path, samples_dir: Path) -> Dataset:
    report = sample_report(entry, path)
    start, end = (datetime.fromisoformat(report[k]) for k in ("start", "end"))
    return Dataset(
        symbol=entry["symbol"], source="sample", synthetic=bool(entry.get("synthetic", True)),
        path=to_stored(path, samples_dir), timeframe=report["timeframe"], n_rows=report["rows"],
        start=start, end=end, n_rejected=report["rejected"], report=report,
        description=entry.get("description", ""),
    )
