"""The real bundled samples SP500 and NASDAQ: arch's bars, validated like an import, offline.

Independent values: the closes are the published index closes (S&P 500 1,228.10 on
1999-01-04 and 2,506.85 on 2018-12-31; NASDAQ Composite 2,208.05 and 6,635.28), and the
frames are compared with what ``arch.data.*.load()`` returns, read here with pandas.
"""

from __future__ import annotations

import socket
from datetime import datetime

import arch.data.nasdaq
import arch.data.sp500
import polars as pl
import pytest

from engine.config import PROJECT_ROOT
from engine.market import (
    dataset_fingerprint,
    default_symbol,
    get_dataset_info,
    import_file,
    list_datasets,
    load_dataset,
)
from engine.market.real_samples import LICENCE_FILE, REAL_SPECS, licence_text
from engine.market.samples import read_manifest
from tests.market._canon import assert_canonical

SAMPLES = PROJECT_ROOT / "data" / "samples"
ARCH = {"SP500": arch.data.sp500, "NASDAQ": arch.data.nasdaq}
# symbol: (rows arch ships, rejected by validation, first close, last close) — published closes
EXPECTED = {
    "SP500": (5031, 0, 1228.099976, 2506.850098),
    "NASDAQ": (5031, 0, 2208.050049, 6635.279785),
}


def arch_frame(symbol: str) -> pl.DataFrame:
    """arch's frame in canonical form, built here with pandas (not through the validator)."""
    pdf = ARCH[symbol].load()
    return pl.DataFrame({
        "timestamp": pdf.index.to_numpy().astype("datetime64[us]"),
        **{c.lower(): pdf[c].to_numpy(float) for c in ("Open", "High", "Low", "Close", "Volume")},
    })


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_first_bundled_samples_are_the_real_ones():
    entries = read_manifest(SAMPLES)
    assert [e["symbol"] for e in entries[:2]] == ["SP500", "NASDAQ"]
    assert [s.symbol for s in REAL_SPECS] == ["SP500", "NASDAQ"]
    for e in entries[:2]:
        assert e["synthetic"] is False and "NCSA" in e["licence"] and "arch" in e["source"]
        assert e["description"].startswith("Real market data")
    assert all(e["synthetic"] for e in entries[2:])


@pytest.mark.parametrize("symbol", ["SP500", "NASDAQ"])
def test_present_after_first_run_offline_and_equal_to_arch(symbol, no_network):
    rows, rejected, first_close, last_close = EXPECTED[symbol]
    info = {i.symbol: i for i in list_datasets()}[symbol]  # fresh data dir: the first run
    assert (info.source, info.synthetic, info.timeframe) == ("sample", False, "1d")
    assert info.n_rows == rows - rejected and info.n_rejected == rejected
    assert info.report["source_rows"] == rows
    assert (info.start, info.end) == (datetime(1999, 1, 4), datetime(2018, 12, 31))
    df = load_dataset(symbol)
    assert_canonical(df)
    assert df.equals(arch_frame(symbol))
    assert df["close"][0] == pytest.approx(first_close, abs=1e-6)
    assert df["close"][-1] == pytest.approx(last_close, abs=1e-6)


@pytest.mark.parametrize("symbol", ["SP500", "NASDAQ"])
def test_labelled_real_with_source_and_licence(symbol):
    info = get_dataset_info(symbol)
    assert not info.synthetic
    assert "arch" in info.data_source and f"arch.data.{symbol.lower()}" in info.data_source
    assert info.licence.startswith("NCSA") and "Kevin Sheppard" in info.licence
    # the Market Data page shows the description: source and licence are in it
    assert "Source: arch package" in info.description and "Licence: NCSA" in info.description
    assert info.report["provenance"] == {"source": info.data_source, "licence": info.licence}
    # 2001-09-11 … 09-14: US exchanges closed, the one gap of the calendar rule (4 weekdays)
    assert info.report["n_gaps"] == 1 and info.report["missing_bars"] == 4
    assert info.report["gaps"][0]["after"] == "2001-09-10T00:00:00"
    assert "column 'Adj Close' ignored (equal to Close on every row)" in info.report["warnings"]


def test_nasdaq_zero_volume_bars_are_kept_and_noted():
    pdf = arch.data.nasdaq.load()
    zero_days = [f"{d:%Y-%m-%d}" for d in pdf.index[pdf["Volume"] == 0]]
    assert zero_days == ["2015-05-12", "2018-01-09"]
    warnings = get_dataset_info("NASDAQ").report["warnings"]
    assert "2 bars with volume 0 kept as published (2015-05-12, 2018-01-09)" in warnings
    df = load_dataset("NASDAQ")
    assert df.filter(pl.col("volume") == 0).height == 2
    assert not any("volume 0" in w for w in get_dataset_info("SP500").report["warnings"])


@pytest.mark.parametrize("symbol", ["SP500", "NASDAQ"])
def test_same_as_importing_arch_data_by_hand(symbol, tmp_path):
    """The sample is what `data import` of arch's own CSV export gives (same validation)."""
    csv = tmp_path / f"{symbol}.csv"
    ARCH[symbol].load().to_csv(csv)  # Date,Open,High,Low,Close,Adj Close,Volume
    rep = import_file(csv, f"{symbol}-IMPORTED")
    info = get_dataset_info(symbol)
    assert (rep.rows, rep.rejected) == (info.n_rows, info.n_rejected)
    assert rep.n_gaps == info.report["n_gaps"]
    imported, sample = load_dataset(f"{symbol}-IMPORTED"), load_dataset(symbol)
    assert imported["timestamp"].equals(sample["timestamp"])
    # a CSV round trip of float64 prints 17 significant digits at most: equal to the last bit
    assert (imported.select(pl.exclude("timestamp")) - sample.select(pl.exclude("timestamp"))
            ).select(pl.all().abs().max()).row(0) == (0.0,) * 5


@pytest.mark.parametrize("symbol", ["SP500", "NASDAQ"])
def test_committed_copies_equal_arch_and_their_fingerprints(symbol):
    committed = pl.read_parquet(SAMPLES / f"{symbol}.parquet")
    assert committed.equals(arch_frame(symbol))
    entry = {e["symbol"]: e for e in read_manifest(SAMPLES)}[symbol]
    assert dataset_fingerprint(committed) == entry["fingerprint"]
    assert (entry["n_bars"], entry["source_rows"], entry["rejected"]) == (5031, 5031, 0)


def test_arch_licence_ships_beside_the_copies():
    shipped = (SAMPLES / LICENCE_FILE).read_text()
    assert shipped == licence_text()
    assert "Copyright (c) 2017 Kevin Sheppard" in shipped and "AS IS" in shipped


def test_default_symbol_is_sp500_when_present():
    assert default_symbol() == "SP500"
    infos = list_datasets()
    assert [i.symbol for i in infos][:2] == ["NASDAQ", "SP500"]  # ordered by symbol
    assert default_symbol(infos) == "SP500"
    without = [i for i in infos if i.symbol != "SP500"]
    assert default_symbol(without) == "NASDAQ"  # else the first
    assert default_symbol([]) is None
