"""The real bundled samples: S&P 500 and NASDAQ Composite daily bars shipped by ``arch``.

Why these: real market data usually may not be redistributed, but the ``arch`` package
(Kevin Sheppard's econometrics library, NCSA licence, a dependency of the lab) ships 20
years of daily OHLCV for both indices (1999-01-04 … 2018-12-31) as package data, read
offline by ``arch.data.sp500.load()`` / ``arch.data.nasdaq.load()``. :func:`real_frame` runs
them through :func:`~engine.market.validation.validate_frame` exactly as an import would;
:func:`~engine.market.samples.build_samples` writes the result to ``data/samples/`` next to
the synthetic samples, with arch's licence text in ``data/samples/ARCH-LICENSE.md``.

What the raw data looks like (arch 8.0.0): columns ``Open High Low Close Adj Close Volume``
with a ``Date`` index, 5,031 rows each, no missing values, every row passing validation
(0 rejected). ``Adj Close`` equals ``Close`` on every row (an index has no dividends or
splits to adjust for) and is ignored by validation. The NASDAQ series has two bars with
volume 0 (2015-05-12 and 2018-01-09): kept, as validation allows volume 0, and noted.
Both have one gap by the calendar rule: 2001-09-11 … 2001-09-14, when US exchanges were
closed after the September 11 attacks (4 missing weekdays).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import polars as pl

from engine.errors import DataError
from engine.market.validation import ImportReport, validate_frame

LICENCE_FILE = "ARCH-LICENSE.md"
LICENCE = ("NCSA Open Source License, copyright (c) 2017 Kevin Sheppard (the arch package); "
           f"see data/samples/{LICENCE_FILE}")


@dataclass(frozen=True)
class RealSpec:
    """One real sample: its symbol, what it is, and the arch module that loads it."""

    symbol: str
    name: str
    module: str

    @property
    def source(self) -> str:
        return f"arch package example data (`{self.module}`)"

    @property
    def description(self) -> str:
        return (f"Real market data: {self.name} daily bars, 1999-2018. Source: {self.source}. "
                f"Licence: {LICENCE}.")


#: The real samples, in the order they are listed (they come before the synthetic ones).
REAL_SPECS: tuple[RealSpec, ...] = (
    RealSpec("SP500", "S&P 500 index", "arch.data.sp500"),
    RealSpec("NASDAQ", "NASDAQ Composite index", "arch.data.nasdaq"),
)


def arch_version() -> str:
    """The installed arch version (recorded in the manifest next to each fingerprint)."""
    try:
        return metadata.version("arch")
    except metadata.PackageNotFoundError:
        return "not installed"


def arch_raw(spec: RealSpec) -> pl.DataFrame:
    """arch's frame as shipped, as polars (``Date`` column plus arch's six columns)."""
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:
        raise DataError(
            f"the arch package is needed to rebuild the {spec.symbol} sample ({exc}); "
            "install it with `pip install arch`"
        ) from exc
    return pl.from_pandas(module.load().reset_index())


def real_frame(spec: RealSpec) -> tuple[pl.DataFrame, ImportReport]:
    """arch's bars validated like an import: the canonical frame and what was rejected."""
    raw = arch_raw(spec)
    frame, report = validate_frame(raw, symbol=spec.symbol)
    zero = frame.filter(pl.col("volume") == 0)["timestamp"]
    if zero.len():
        days = ", ".join(f"{t:%Y-%m-%d}" for t in zero)
        report.warnings.append(f"{zero.len()} bars with volume 0 kept as published ({days})")
    if "Adj Close" in raw.columns:
        same = bool((raw["Adj Close"] == raw["Close"]).all())
        report.warnings.append("column 'Adj Close' ignored" + (" (equal to Close on every row)"
                                                              if same else ""))
    return frame, report


def manifest_entry(spec: RealSpec, report: ImportReport) -> dict[str, Any]:
    """The manifest entry of a real sample (the fingerprint is added by the caller)."""
    return {
        "symbol": spec.symbol, "description": spec.description, "synthetic": False,
        "source": spec.source, "licence": LICENCE, "loader": f"{spec.module}.load",
        "arch_version": arch_version(), "n_bars": report.rows,
        "start": f"{report.start:%Y-%m-%d}", "end": f"{report.end:%Y-%m-%d}",
        "source_rows": report.source_rows, "rejected": report.rejected,
        "rejected_by_reason": report.rejected_by_reason, "notes": list(report.warnings),
    }


def licence_text() -> str:
    """arch's licence file as installed (shipped beside the data copies, as NCSA requires)."""
    dist = metadata.distribution("arch")
    for f in dist.files or []:
        if f.name.upper().startswith("LICENSE"):
            return (f"<!-- Licence of the arch package (version {dist.version}), whose example "
                    "data SP500.parquet and NASDAQ.parquet are copied from. -->\n\n"
                    + f.read_text().strip() + "\n")
    raise DataError("the installed arch package has no licence file; reinstall it with "
                    "`pip install --force-reinstall arch`")
