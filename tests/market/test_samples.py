"""Bundled samples: synthetic, labelled so, and reproducible from their seeds."""

from __future__ import annotations

import json

import polars as pl
import pytest

from engine.config import PROJECT_ROOT
from engine.market import build_samples, dataset_fingerprint, list_datasets
from engine.market.samples import SAMPLE_SPECS, read_manifest, sample_frame

from tests.market._canon import assert_canonical

SAMPLES = PROJECT_ROOT / "data" / "samples"


def test_manifest_lists_at_least_three_synthetic_daily_samples():
    entries = read_manifest(SAMPLES)
    assert len(entries) >= 3
    assert [e["symbol"] for e in entries] == [s[0] for s in SAMPLE_SPECS]
    for e in entries:
        assert e["synthetic"] is True and "ynthetic" in e["description"]
        assert isinstance(e["seed"], int) and e["n_bars"] >= 2500  # ~10 years of business days
    # No real (licence-restricted) data shipped alongside.
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(
        [f"{e['symbol']}.parquet" for e in entries] + ["samples.json"])


@pytest.mark.parametrize("entry", read_manifest(SAMPLES), ids=lambda e: e["symbol"])
def test_committed_files_equal_a_regeneration_from_the_seed(entry):
    committed = pl.read_parquet(SAMPLES / f"{entry['symbol']}.parquet")
    assert_canonical(committed)
    regenerated = sample_frame(entry)
    assert committed.equals(regenerated)
    assert dataset_fingerprint(committed) == entry["fingerprint"]


def test_build_samples_reproduces_the_manifest(tmp_path):
    entries = build_samples(tmp_path)
    assert json.loads((tmp_path / "samples.json").read_text()) == read_manifest(SAMPLES)
    for e in entries:
        assert pl.read_parquet(tmp_path / f"{e['symbol']}.parquet").equals(
            pl.read_parquet(SAMPLES / f"{e['symbol']}.parquet"))


def test_samples_are_registered_once_and_labelled_synthetic():
    first = [i for i in list_datasets() if i.source == "sample"]
    again = [i for i in list_datasets() if i.source == "sample"]
    assert [i.symbol for i in first] == [i.symbol for i in again] == sorted(s[0] for s in SAMPLE_SPECS)
    for i in first:
        assert i.synthetic and i.n_rows > 2500 and i.timeframe == "1d" and i.n_rejected == 0
        assert i.description.startswith("Synthetic")


def test_samples_differ_in_character():
    vol = {}
    for e in read_manifest(SAMPLES):
        df = pl.read_parquet(SAMPLES / f"{e['symbol']}.parquet")
        vol[e["symbol"]] = df.select(pl.col("close").log().diff().std()).item()
    assert vol["SYN-VOLATILE"] > vol["SYN-TREND"] and vol["SYN-VOLATILE"] > vol["SYN-RANGE"]
