"""Bundled samples: the synthetic ones labelled so and reproducible from their seeds.

The real ones (SP500, NASDAQ) are tested in ``test_real_samples.py``.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from engine.config import PROJECT_ROOT
from engine.market import build_samples, dataset_fingerprint, list_datasets
from engine.market.real_samples import LICENCE_FILE, REAL_SPECS
from engine.market.samples import SAMPLE_SPECS, read_manifest, sample_frame
from tests.market._canon import assert_canonical

SAMPLES = PROJECT_ROOT / "data" / "samples"
SYNTHETIC = [e for e in read_manifest(SAMPLES) if e["synthetic"]]


def test_manifest_lists_at_least_three_synthetic_daily_samples():
    entries = read_manifest(SAMPLES)
    assert len(SYNTHETIC) >= 3
    symbols = [s.symbol for s in REAL_SPECS] + [s[0] for s in SAMPLE_SPECS]
    assert [e["symbol"] for e in entries] == symbols
    for e in SYNTHETIC:
        assert "ynthetic" in e["description"] and e["symbol"].startswith("SYN-")
        assert isinstance(e["seed"], int) and e["n_bars"] >= 2500  # ~10 years of business days
    # Besides the samples, only arch's licence (it covers the real ones) is shipped.
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(
        [f"{e['symbol']}.parquet" for e in entries] + ["samples.json", LICENCE_FILE])


@pytest.mark.parametrize("entry", SYNTHETIC, ids=lambda e: e["symbol"])
def test_committed_files_equal_a_regeneration_from_the_seed(entry):
    committed = pl.read_parquet(SAMPLES / f"{entry['symbol']}.parquet")
    assert_canonical(committed)
    regenerated = sample_frame(entry)
    assert committed.equals(regenerated)
    assert dataset_fingerprint(committed) == entry["fingerprint"]


def test_build_samples_reproduces_the_manifest(tmp_path):
    entries = build_samples(tmp_path)
    assert json.loads((tmp_path / "samples.json").read_text()) == read_manifest(SAMPLES)
    assert (tmp_path / LICENCE_FILE).read_text() == (SAMPLES / LICENCE_FILE).read_text()
    for e in entries:
        assert pl.read_parquet(tmp_path / f"{e['symbol']}.parquet").equals(
            pl.read_parquet(SAMPLES / f"{e['symbol']}.parquet"))


def test_samples_are_registered_once_and_labelled():
    first = [i for i in list_datasets() if i.source == "sample"]
    again = [i for i in list_datasets() if i.source == "sample"]
    assert [i.symbol for i in first] == [i.symbol for i in again] == sorted(
        [s[0] for s in SAMPLE_SPECS] + [s.symbol for s in REAL_SPECS])
    for i in first:
        assert i.n_rows > 2500 and i.timeframe == "1d" and i.n_rejected == 0
        assert i.synthetic == i.symbol.startswith("SYN-")
        assert i.description.startswith("Synthetic" if i.synthetic else "Real market data")
        assert i.path == str(SAMPLES / f"{i.symbol}.parquet")  # resolved from the stored text


def test_sample_rows_store_paths_relative_to_the_samples_dir():
    from sqlmodel import select

    from engine import db
    from engine.tables import Dataset

    list_datasets()
    with db.session_scope() as s:
        stored = dict(s.exec(select(Dataset.symbol, Dataset.path)).all())
    assert stored == {sym: f"{sym}.parquet" for sym in stored} and len(stored) == 5


def test_samples_differ_in_character():
    vol = {}
    for e in SYNTHETIC:
        df = pl.read_parquet(SAMPLES / f"{e['symbol']}.parquet")
        vol[e["symbol"]] = df.select(pl.col("close").log().diff().std()).item()
    assert vol["SYN-VOLATILE"] > vol["SYN-TREND"] and vol["SYN-VOLATILE"] > vol["SYN-RANGE"]
