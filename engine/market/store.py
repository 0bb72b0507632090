"""The dataset store: one Parquet file per symbol plus one ``Dataset`` row, kept in step.

Why this shape: Parquet keeps a 1M-bar series small and fast to load; the database row
makes the catalogue (source, synthetic flag, quality report) queryable by pages and
commands. :func:`store_frame` writes both as one unit — a temp file moved into place with
``os.replace`` inside the row's transaction, undone if the commit fails — so a failure never
leaves a file without a row, a row without a file, or half of an overwrite.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlmodel import select

from engine.config import get_settings
from engine.db import read_scope, session_scope
from engine.errors import DataError, DatasetNotFound, ParameterError
from engine.market.filecache import validated_file
from engine.market.samples import DEFAULT_SYMBOL, ensure_samples
from engine.market.validation import CANONICAL, ImportReport, read_file, validate_frame
from engine.paths import resolve_stored, to_stored
from engine.tables import Dataset, utcnow

SYMBOL_RE = re.compile(r"^[A-Z0-9.\-_^=]{1,32}$")
FILE_SUFFIXES = (".csv", ".parquet", ".pq", ".txt")
_SCHEMA = {"timestamp": pl.Datetime("us"), **{c: pl.Float64 for c in CANONICAL[1:]}}


@dataclass
class DatasetInfo:
    """What the lab knows about one dataset (a row of the catalogue).

    ``path`` is the file as found today (the row stores it relative to the data directory,
    or to the samples directory for a bundled sample, so a lab folder can move);
    ``data_source`` and ``licence`` say where a real bundled sample comes from.
    """

    symbol: str
    source: str
    synthetic: bool
    timeframe: str
    n_rows: int
    start: datetime | None
    end: datetime | None
    n_rejected: int
    description: str
    path: str
    report: dict[str, Any] = field(default_factory=dict)
    data_source: str = ""
    licence: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("start", "end"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


def normalise_symbol(symbol: str) -> str:
    """Upper-case and check a symbol: 1–32 of letters, digits and ``. - _ ^ =``."""
    sym = (symbol or "").strip().upper()
    if not SYMBOL_RE.match(sym):
        raise ParameterError(
            f"invalid symbol {symbol!r}: use 1-32 letters, digits or . - _ ^ = "
            "(for example AAPL, BTC-USD, ^GSPC)"
        )
    return sym


def stored_path_base(source: str) -> Path:
    """The directory a dataset row's path is relative to: samples' or the data directory."""
    settings = get_settings()
    return settings.samples_dir if source == "sample" else settings.data_dir


def _info(row: Dataset) -> DatasetInfo:
    report = dict(row.report or {})
    provenance = report.get("provenance") or {}
    return DatasetInfo(
        symbol=row.symbol, source=row.source, synthetic=row.synthetic, timeframe=row.timeframe,
        n_rows=row.n_rows, start=row.start, end=row.end, n_rejected=row.n_rejected,
        description=row.description,
        path=str(resolve_stored(row.path, stored_path_base(row.source))), report=report,
        data_source=provenance.get("source", ""), licence=provenance.get("licence", ""),
    )


# ------------------------------------------------------------------------------- writing

def store_frame(
    frame: pl.DataFrame,
    report: ImportReport,
    symbol: str,
    *,
    source: str,
    overwrite: bool = False,
    synthetic: bool = False,
    description: str = "",
    replaceable_sources: tuple[str, ...] = (),
) -> Path:
    """Write ``<datasets_dir>/<SYMBOL>.parquet`` and its ``Dataset`` row as one unit.

    An existing symbol is replaced only with ``overwrite=True`` or when its current source
    is in ``replaceable_sources`` (a download refreshing an earlier download). Bundled
    samples are never replaced (import under another symbol instead).
    """
    symbol = normalise_symbol(symbol)
    ensure_samples()  # so a sample's symbol is known to be taken
    settings = get_settings()
    ddir = settings.datasets_dir
    stored = to_stored(ddir / f"{symbol}.parquet", settings.data_dir)
    ddir.mkdir(parents=True, exist_ok=True)
    final = ddir / f"{symbol}.parquet"
    tmp = ddir / f".{symbol}.{uuid.uuid4().hex}.tmp"
    backup: Path | None = None
    placed = False
    frame.write_parquet(tmp, statistics=True)
    try:
        with session_scope() as s:
            row = s.exec(select(Dataset).where(Dataset.symbol == symbol)).first()
            if row is not None:
                if row.source == "sample":
                    raise DataError(
                        f"{symbol} is a bundled sample and cannot be replaced; "
                        "use another symbol (e.g. --symbol MY-DATA)"
                    )
                if not overwrite and row.source not in replaceable_sources:
                    raise DataError(
                        f"dataset {symbol} already exists ({row.source}, {row.n_rows} rows); "
                        "pass --overwrite (overwrite=True) to replace it or choose another symbol"
                    )
            else:
                row = Dataset(symbol=symbol, source=source, path=stored)
            row.source, row.synthetic, row.path = source, synthetic, stored
            row.timeframe, row.n_rows = report.timeframe, report.rows
            row.n_rejected = report.rejected
            row.start, row.end = report.start, report.end
            row.report, row.description = report.to_dict(), description
            row.created_at = utcnow()
            s.add(row)
            s.flush()  # constraint errors surface here, before any file moves
            if final.exists():
                backup = ddir / f".{symbol}.{uuid.uuid4().hex}.bak"
                os.replace(final, backup)
            os.replace(tmp, final)
            placed = True
        # committed
    except BaseException:
        tmp.unlink(missing_ok=True)
        if placed:
            final.unlink(missing_ok=True)
        if backup is not None and backup.exists():
            os.replace(backup, final)
        raise
    if backup is not None:
        backup.unlink(missing_ok=True)
    return final


def import_frame(
    raw: pl.DataFrame, symbol: str, *, source: str = "import", overwrite: bool = False,
    description: str = "", replaceable_sources: tuple[str, ...] = (),
) -> ImportReport:
    """Validate ``raw`` and store it under ``symbol`` (see :func:`store_frame`)."""
    symbol = normalise_symbol(symbol)
    frame, report = validate_frame(raw, symbol=symbol)
    store_frame(frame, report, symbol, source=source, overwrite=overwrite,
                description=description, replaceable_sources=replaceable_sources)
    return report


def import_file(path: str | Path, symbol: str, *, overwrite: bool = False) -> ImportReport:
    """Import a CSV or Parquet file as dataset ``symbol``; return what was kept and rejected."""
    symbol = normalise_symbol(symbol)
    raw = read_file(path)
    return import_frame(raw, symbol, source="import", overwrite=overwrite,
                        description=f"imported from {Path(path).name}")


# ------------------------------------------------------------------------------ catalogue

def _known_symbols() -> list[str]:
    with session_scope() as s:
        return sorted(s.exec(select(Dataset.symbol)).all())


def _not_found(symbol: str) -> DatasetNotFound:
    known = ", ".join(_known_symbols()) or "none"
    return DatasetNotFound(
        f"no dataset {symbol!r} (known: {known}); import one with "
        "`python -m engine data import FILE --symbol SYM` or give a path to a CSV/Parquet file"
    )


def list_datasets() -> list[DatasetInfo]:
    """Every dataset, bundled samples included, ordered by symbol."""
    ensure_samples()
    with read_scope() as s:
        return [_info(r) for r in s.exec(select(Dataset).order_by(Dataset.symbol)).all()]


def get_dataset_info(symbol: str) -> DatasetInfo:
    """The catalogue entry of ``symbol`` (case-insensitive)."""
    ensure_samples()
    sym = normalise_symbol(symbol)
    with read_scope() as s:
        row = s.exec(select(Dataset).where(Dataset.symbol == sym)).first()
        info = _info(row) if row is not None else None
    if info is None:  # outside the transaction: _not_found opens its own
        raise _not_found(sym)
    return info


def default_symbol(infos: Sequence[DatasetInfo] | None = None) -> str | None:
    """The dataset the app opens on: ``SP500`` (real S&P 500 bars) when present, else the first.

    ``infos`` is the catalogue when the caller already has it (``None``: read it); with no
    dataset at all there is no default.
    """
    symbols = [i.symbol for i in (list_datasets() if infos is None else infos)]
    if DEFAULT_SYMBOL in symbols:
        return DEFAULT_SYMBOL
    return symbols[0] if symbols else None


def delete_dataset(symbol: str) -> None:
    """Remove an imported or downloaded dataset: its row, then its file."""
    info = get_dataset_info(symbol)
    if info.source == "sample":
        raise DataError(f"{info.symbol} is a bundled sample and cannot be deleted")
    with session_scope() as s:
        row = s.exec(select(Dataset).where(Dataset.symbol == info.symbol)).first()
        if row is not None:
            s.delete(row)
    Path(info.path).unlink(missing_ok=True)


# -------------------------------------------------------------------------------- loading

def parse_bound(value: str | date | datetime | None, *, is_end: bool, name: str) -> datetime | None:
    """A window bound as naive UTC; a bare date as ``end`` means the end of that day."""
    if value is None or value == "":
        return None
    whole_day = False
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt, whole_day = datetime.combine(value, time()), True
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                dt, whole_day = datetime.combine(date.fromisoformat(text), time()), True
            else:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ParameterError(
                f"{name} {value!r} is not a date: use YYYY-MM-DD or an ISO datetime "
                "like 2020-01-31T15:30"
            ) from None
    else:
        raise ParameterError(f"{name} must be a date string, date or datetime, got {value!r}")
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    if is_end and whole_day:
        dt = dt + timedelta(days=1) - timedelta(microseconds=1)
    return dt


def filter_window(df: pl.DataFrame, start=None, end=None, *,
                  label: str = "the data") -> pl.DataFrame:
    """Keep the bars with ``start <= timestamp <= end`` (see :func:`load_dataset`)."""
    lo = parse_bound(start, is_end=False, name="start")
    hi = parse_bound(end, is_end=True, name="end")
    if lo is None and hi is None:
        return df
    if lo is not None and hi is not None and lo > hi:
        raise ParameterError(f"start {start} is after end {end}; swap them")
    cond = pl.lit(True)
    if lo is not None:
        cond = cond & (pl.col("timestamp") >= lo)
    if hi is not None:
        cond = cond & (pl.col("timestamp") <= hi)
    out = df.filter(cond)
    if out.height == 0:
        span = (f"{df['timestamp'][0]:%Y-%m-%d} to {df['timestamp'][-1]:%Y-%m-%d}"
                if df.height else "nothing")
        raise DataError(
            f"no bars in {label} between {start or 'the start'} and {end or 'the end'} "
            f"(it covers {span}); widen --start/--end"
        )
    return out


def _read_stored(info: DatasetInfo) -> pl.DataFrame:
    path = Path(info.path)  # already resolved against today's data or samples directory
    if not path.is_file() and info.source == "sample":
        path = get_settings().samples_dir / f"{info.symbol}.parquet"
    if not path.is_file():
        raise DataError(
            f"the file of dataset {info.symbol} is missing ({path}); import it again with "
            f"`python -m engine data import FILE --symbol {info.symbol} --overwrite`"
        )
    df = pl.read_parquet(path)
    if dict(df.schema) != _SCHEMA:
        raise DataError(f"{path} is not a canonical OHLCV file; import it again with --overwrite")
    return df


def looks_like_path(text: str) -> bool:
    """True for strings meant as files: a data-file suffix or a directory separator."""
    return Path(text).suffix.lower() in FILE_SUFFIXES or "/" in text or os.sep in text


def load_dataset(
    symbol_or_path: str | Path,
    *,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
) -> pl.DataFrame:
    """The canonical frame of a stored symbol (case-insensitive) or of a CSV/Parquet file.

    A file is read and validated but not registered (once while it is unchanged:
    :mod:`engine.market.filecache`). ``start``/``end`` keep only the bars
    inside, both ends included; an ``end`` given as a date includes that whole day.
    """
    text = str(symbol_or_path)
    if isinstance(symbol_or_path, Path) or looks_like_path(text):
        path = Path(text)
        if not path.is_file():
            raise DatasetNotFound(f"file not found: {text}; check the path")
        return filter_window(validated_file(path), start, end, label=path.name)
    try:
        info = get_dataset_info(text)
    except ParameterError:
        raise _not_found(text) from None
    return filter_window(_read_stored(info), start, end, label=info.symbol)
