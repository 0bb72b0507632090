"""Turning any OHLCV table into the canonical frame, with a report of what was rejected.

Why one validation core: files, downloads and samples all pass through
:func:`validate_frame`, so every dataset in the lab obeys the same contract — columns
``timestamp`` (``Datetime("us")``, naive UTC, strictly increasing), ``open``, ``high``,
``low``, ``close``, ``volume`` (Float64, finite, prices > 0, volume >= 0,
``high >= max(open, close)``, ``low <= min(open, close)``) — and every dropped row is
counted and explained in an :class:`ImportReport`.

Rules worth knowing
-------------------
- Column names are matched case-insensitively, ignoring spaces and underscores, with
  aliases (``date``/``datetime``/``time`` → timestamp, ``o``/``h``/``l``/``c``,
  ``vol``/``v`` → volume). ``adj close`` and unknown columns are ignored. ``volume`` is
  optional: when absent it is filled with 0 and a warning says so.
- Timestamps: datetimes (tz-aware ones converted to UTC, then made naive), dates, ISO
  strings with or without a time and offset (``Z``, ``+02:00``), ``YYYY/MM/DD``,
  ``MM/DD/YYYY`` or ``DD/MM/YYYY`` (whichever parses more values), ``YYYYMMDD``, and epoch
  numbers whose unit (s, ms, us, ns) is inferred from their magnitude. String formats are
  chosen from the first 2,000 values (several may mix); a later row in a format never seen
  there is rejected as an unparseable timestamp.
- Never guessed silently (the import is refused, naming the rows and the fix): numbers
  written with a decimal comma (``"1,5"``; ``1,000.5`` thousands separators are fine),
  slash dates that mix month/day/year and day/month/year (``01/13/2024`` and
  ``13/01/2024`` in one file), and epoch numbers that mix units (seconds and
  milliseconds in one column).
- Prices must lie in [:data:`PRICE_MIN`, :data:`PRICE_MAX`] (1e-06 to 1e+09): beyond it
  float arithmetic over- or underflows and a backtest would differ from the same series
  at a normal scale; a row outside is rejected ("price outside …"). Rescale such a series.
- Each row is rejected for the first problem found, in this order: bad timestamp, missing
  or non-numeric value, NaN/inf, price <= 0, price outside the range, volume < 0,
  high < max(open, close), low > min(open, close); then, among the valid rows sorted by
  time, repeated timestamps keep their first occurrence in the file ("duplicate
  timestamp").
- Gap rule: bars are expected every *spacing* (the median time between bars). Daily data
  with no weekend bars follows a Mon–Fri calendar where up to 2 consecutive missing
  weekdays are exchange holidays, 3 or more a gap; daily data with weekend bars (crypto)
  expects every calendar day. Intraday data counts missing bars inside a UTC day, and
  across days only for around-the-clock series. Weekly/monthly and other spacings: a gap
  is a distance of more than 1.5 spacings, missing ``round(distance/spacing) - 1`` bars.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine.errors import DataError

CANONICAL = ["timestamp", "open", "high", "low", "close", "volume"]
PRICES = ["open", "high", "low", "close"]
MAX_EXAMPLES = 20
MAX_GAPS = 50
HOLIDAY_ALLOWANCE = 2  # consecutive missing weekdays still taken as exchange holidays
#: The range of prices the lab accepts (see the module docstring).
PRICE_MIN = 1e-6
PRICE_MAX = 1e9
_PRICE_RANGE = f"price outside [{PRICE_MIN:g}, {PRICE_MAX:g}]"
#: ``1,000`` / ``-12,345.67`` / ``$1,000``: a comma that separates thousands.
_THOUSANDS = r"^\s*[+-]?\$?\d{1,3}(,\d{3})+(\.\d*)?\s*$"

_ALIASES: dict[str, str] = {
    "timestamp": "timestamp", "date": "timestamp", "datetime": "timestamp",
    "time": "timestamp", "ts": "timestamp", "dt": "timestamp", "datetimeutc": "timestamp",
    "timestamputc": "timestamp", "opentime": "timestamp", "index": "timestamp",
    "open": "open", "o": "open", "openprice": "open",
    "high": "high", "h": "high", "highprice": "high", "hi": "high",
    "low": "low", "l": "low", "lowprice": "low", "lo": "low",
    "close": "close", "c": "close", "closeprice": "close", "last": "close",
    "volume": "volume", "vol": "volume", "v": "volume", "volumeto": "volume",
}
_IGNORED = {"adjclose", "adjustedclose", "dividends", "stocksplits", "capitalgains"}


@dataclass
class ImportReport:
    """What validation kept and rejected, and why (JSON-safe via :meth:`to_dict`)."""

    symbol: str = ""
    source_rows: int = 0
    rows: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    gaps: list[dict[str, Any]] = field(default_factory=list)
    n_gaps: int = 0
    missing_bars: int = 0
    start: datetime | None = None
    end: datetime | None = None
    timeframe: str = "unknown"
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: datetimes become ISO-8601 strings."""

        def conv(v: Any) -> Any:
            if isinstance(v, datetime):
                return v.isoformat()
            if isinstance(v, dict):
                return {str(k): conv(x) for k, x in v.items()}
            if isinstance(v, list):
                return [conv(x) for x in v]
            return v

        return conv(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImportReport:
        """Inverse of :meth:`to_dict` (for reports stored in the database)."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for key in ("start", "end"):
            if isinstance(known.get(key), str):
                known[key] = datetime.fromisoformat(known[key])
        return cls(**known)


# --------------------------------------------------------------------------- reading files

def read_file(path: str | Path) -> pl.DataFrame:
    """Read a CSV or Parquet file as is (every CSV column as text; validation types it)."""
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{p} is a directory; give a CSV or Parquet file inside it")
    if not p.is_file():
        raise DataError(f"file not found: {p}; check the path")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(p)
        if suffix in (".csv", ".txt"):
            return pl.read_csv(p, infer_schema=False, truncate_ragged_lines=True)
    except Exception as exc:  # polars raises many kinds; all mean "unreadable"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"cannot read {p.name}: {first[:200]}; check that it is a valid "
            f"{'Parquet' if suffix in ('.parquet', '.pq') else 'CSV'} file with a header row"
        ) from exc
    raise DataError(
        f"unsupported file type {suffix or '(none)'} for {p.name}; use .csv or .parquet"
    )


# ------------------------------------------------------------------------- column mapping

def _map_columns(df: pl.DataFrame, warnings: list[str]) -> pl.DataFrame:
    mapping: dict[str, str] = {}
    for name in df.columns:
        key = name.strip().lower().replace(" ", "").replace("_", "").replace("-", "")
        if key in _IGNORED:
            continue
        target = _ALIASES.get(key)
        if target is None:
            continue
        if target in mapping.values():
            first = next(k for k, v in mapping.items() if v == target)
            warnings.append(f"column {name!r} ignored: {first!r} already provides {target}")
            continue
        mapping[name] = target
    missing = [c for c in CANONICAL if c not in mapping.values() and c != "volume"]
    if missing:
        raise DataError(
            f"missing required column(s) {', '.join(missing)} (found: "
            f"{', '.join(df.columns) or 'none'}); the file needs a header with timestamp/date, "
            "open, high, low, close and optionally volume"
        )
    out = df.select([pl.col(src).alias(dst) for src, dst in mapping.items()])
    if "volume" not in out.columns:
        warnings.append("no volume column: volume set to 0")
        out = out.with_columns(volume=pl.lit(0.0))
    return out


# ------------------------------------------------------------------------------ timestamps

_ISO_FORMATS_TZ = ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M%#z"]
_ISO_FORMATS = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S",
                "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d"]
_SLASH_US = ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"]
_SLASH_EU = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]


_EPOCH_UNITS = [(1e11, "seconds", 1e6), (1e14, "milliseconds", 1e3),
                (1e17, "microseconds", 1.0), (math.inf, "nanoseconds", 1e-3)]


def _epoch_to_datetime(x: pl.Expr, values: pl.Series) -> pl.Expr:
    """Epoch numbers → datetime, unit from magnitude (s < 1e11 ≤ ms < 1e14 ≤ us < 1e17 ≤ ns).

    ``values`` is the whole column as Float64 (nulls kept, so positions are rows). One
    unit for the column: a column whose numbers fall in two units (seconds and
    milliseconds) is refused, naming the rows, rather than dating some rows in 1970.
    """
    mag = values.abs()
    unit = pl.select(pl.when(mag < 1e11).then(0).when(mag < 1e14).then(1)
                     .when(mag < 1e17).then(2).when(mag.is_finite()).then(3)
                     .otherwise(None).alias("u")).to_series()
    counts = unit.drop_nulls().value_counts(sort=True)
    if counts.height > 1:
        groups = []
        for u in counts["u"].to_list():
            rows = (unit == u).fill_null(False).arg_true().to_list()
            groups.append(f"{_EPOCH_UNITS[u][1]} in {_rows_text([r + 1 for r in rows])} "
                          f"(e.g. {values[rows[0]]:.0f})")
        raise DataError(
            "the epoch timestamps mix units: " + "; ".join(groups) + ". Each row's unit "
            "cannot be known, so nothing was imported; convert every timestamp to one unit "
            "(or to YYYY-MM-DD dates) and import again")
    code = counts["u"][0] if counts.height else 0
    factor = _EPOCH_UNITS[code][2]
    return ((x.cast(pl.Float64) * factor).round(0)
            .cast(pl.Int64, strict=False).cast(pl.Datetime("us")))


def _parse_strings(s: pl.Expr, values: pl.Series, warnings: list[str]) -> pl.Expr:
    t = s.str.strip_chars().str.replace("T", " ", literal=True).str.replace(r"Z$", "+00:00")
    parsed = [t.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC")
              .dt.replace_time_zone(None) for f in _ISO_FORMATS_TZ]
    parsed += [t.str.to_datetime(f, strict=False, time_unit="us") for f in _ISO_FORMATS]
    if values.str.contains(r"^\s*\d{1,2}/\d{1,2}/\d{4}").any():
        frame = values.to_frame("s").lazy()
        n_us = frame.select(pl.coalesce([pl.col("s").str.strip_chars().str.to_datetime(
            f, strict=False) for f in _SLASH_US]).count()).collect().item()
        n_eu = frame.select(pl.coalesce([pl.col("s").str.strip_chars().str.to_datetime(
            f, strict=False) for f in _SLASH_EU]).count()).collect().item()
        _refuse_mixed_day_month(values)
        chosen = _SLASH_EU if n_eu > n_us else _SLASH_US
        if n_eu == n_us:
            warnings.append("dates like 01/02/2024 are ambiguous: read as month/day/year")
        parsed += [t.str.to_datetime(f, strict=False, time_unit="us") for f in chosen]
    numeric = values.str.strip_chars().cast(pl.Float64, strict=False).drop_nulls()
    if len(numeric) and values.str.contains(r"^\s*-?\d+(\.\d+)?\s*$").all():
        # Digit-only strings: YYYYMMDD when they all look like dates, otherwise epoch numbers.
        yyyymmdd = r"^\s*(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\s*$"
        if not values.str.contains(yyyymmdd).all():
            return _epoch_to_datetime(t.cast(pl.Float64, strict=False),
                                      values.str.strip_chars().cast(pl.Float64, strict=False))
    # Keep the formats that parse part of a sample: a 1M-row file then costs one or two
    # parses instead of nine. Formats seen nowhere in the sample are dropped.
    sample = values.drop_nulls().head(2000).to_frame("timestamp")
    hits = sample.select([e.is_not_null().any().alias(str(i)) for i, e in enumerate(parsed)]).row(0)
    used = [e for e, hit in zip(parsed, hits, strict=False) if hit] or parsed
    return pl.coalesce(used) if len(used) > 1 else used[0]


def _refuse_mixed_day_month(values: pl.Series) -> None:
    """Refuse slash dates in both orders (``01/13/2024`` and ``13/01/2024`` in one file):
    whichever order is chosen, the dates with both numbers 12 or less in the other order
    would be read with day and month swapped."""
    parts = values.str.extract_groups(r"^\s*(\d{1,2})/(\d{1,2})/\d{4}")
    first = parts.struct.field("1").cast(pl.Int64, strict=False)
    second = parts.struct.field("2").cast(pl.Int64, strict=False)
    us_rows = ((second > 12) & (first <= 12)).fill_null(False).arg_true().to_list()
    eu_rows = ((first > 12) & (second <= 12)).fill_null(False).arg_true().to_list()
    if not us_rows or not eu_rows:
        return
    either = ((first <= 12) & (second <= 12)).fill_null(False).sum()
    raise DataError(
        f"the dates mix month/day/year ({_rows_text([r + 1 for r in us_rows])}, e.g. "
        f"{values[us_rows[0]].strip()!r}) and day/month/year "
        f"({_rows_text([r + 1 for r in eu_rows])}, e.g. {values[eu_rows[0]].strip()!r}); "
        f"the {either} dates with both numbers 12 or less could be either, so nothing was "
        "imported; write every date as YYYY-MM-DD (or all in one order) and import again")


def _timestamp_expr(col: pl.Series, warnings: list[str]) -> pl.Expr:
    """An expression turning column ``timestamp`` (of any supported type) into naive UTC."""
    x = pl.col("timestamp")
    dtype = col.dtype
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            x = x.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return x.cast(pl.Datetime("us"))
    if dtype == pl.Date:
        return x.cast(pl.Datetime("us"))
    if dtype.is_numeric():
        finite = col.cast(pl.Float64).drop_nulls().drop_nans()
        if len(finite) == 0:
            return pl.lit(None, dtype=pl.Datetime("us"))
        ints = col.cast(pl.Int64, strict=False).drop_nulls()
        if len(ints) and ints.min() >= 19000101 and ints.max() <= 21001231 and ints.cast(
            pl.String).str.to_datetime("%Y%m%d", strict=False).null_count() == 0:
            return x.cast(pl.Int64).cast(pl.String).str.to_datetime("%Y%m%d", time_unit="us")
        return _epoch_to_datetime(x, col.cast(pl.Float64).fill_nan(None))
    if dtype == pl.String:
        return _parse_strings(x, col, warnings)
    return x.cast(pl.String, strict=False).pipe(
        lambda e: _parse_strings(e, col.cast(pl.String, strict=False), warnings))


# ------------------------------------------------------------------------------- the core

def _numeric(col: str, dtype: pl.DataType) -> pl.Expr:
    x = pl.col(col)
    if dtype == pl.String:
        x = x.str.strip_chars().str.replace_all(r"[,_\s]", "").str.replace(r"^\$", "")
    return x.cast(pl.Float64, strict=False)


def _reason_expr(raw_dtypes: dict[str, pl.DataType]) -> pl.Expr:
    """The first problem of each row as text, null when the row is fine."""
    raw_ts = pl.col("__raw_ts")
    empty_ts = raw_ts.is_null()
    if raw_dtypes["timestamp"] == pl.String:
        empty_ts = empty_ts | (raw_ts.str.strip_chars() == "")
    chain = pl.when(empty_ts).then(pl.lit("missing timestamp"))
    chain = chain.when(pl.col("timestamp").is_null()).then(pl.lit("unparseable timestamp"))
    for c in PRICES + ["volume"]:
        raw = pl.col(f"__raw_{c}")
        empty = raw.is_null()
        if raw_dtypes[c] == pl.String:
            empty = empty | (raw.str.strip_chars() == "")
        chain = chain.when(empty).then(pl.lit(f"missing {c}"))
        chain = chain.when(pl.col(c).is_null()).then(pl.lit(f"non-numeric {c}"))
    for c in PRICES + ["volume"]:
        chain = chain.when(~pl.col(c).is_finite()).then(pl.lit(f"NaN/inf in {c}"))
    chain = chain.when(pl.min_horizontal(PRICES) <= 0).then(pl.lit("price <= 0"))
    chain = chain.when((pl.min_horizontal(PRICES) < PRICE_MIN)
                       | (pl.max_horizontal(PRICES) > PRICE_MAX)).then(pl.lit(_PRICE_RANGE))
    chain = chain.when(pl.col("volume") < 0).then(pl.lit("volume < 0"))
    chain = chain.when(pl.col("high") < pl.max_horizontal("open", "close")).then(
        pl.lit("high < max(open, close)"))
    chain = chain.when(pl.col("low") > pl.min_horizontal("open", "close")).then(
        pl.lit("low > min(open, close)"))
    return chain.otherwise(pl.lit(None, dtype=pl.String))


def validate_frame(df: pl.DataFrame, *, symbol: str = "") -> tuple[pl.DataFrame, ImportReport]:
    """Validate a raw OHLCV table; return the canonical frame and an :class:`ImportReport`.

    Raises :class:`~engine.errors.DataError` for problems that leave nothing usable: a
    missing required column or no valid row. See the module docstring for every rule.
    """
    report = ImportReport(symbol=symbol, source_rows=df.height)
    if df.height == 0:
        raise DataError(f"{symbol or 'the data'} has no rows; supply a file with at least one bar")
    mapped = _map_columns(df, report.warnings)
    raw_dtypes = dict(zip(mapped.columns, mapped.dtypes, strict=False))
    _refuse_decimal_commas(mapped)
    ts_expr = _timestamp_expr(mapped["timestamp"], report.warnings)
    work = mapped.with_row_index("__row", offset=1).with_columns(
        [pl.col(c).alias(f"__raw_{c if c != 'timestamp' else 'ts'}") for c in CANONICAL]
    ).with_columns(
        [ts_expr.alias("timestamp")]
        + [_numeric(c, raw_dtypes[c]).alias(c) for c in PRICES + ["volume"]]
    ).with_columns(__reason=_reason_expr(raw_dtypes))

    # Duplicates among otherwise valid rows: the first in file order wins.
    valid = work.filter(pl.col("__reason").is_null()).sort(["timestamp", "__row"])
    dup_rows = valid.filter(
        pl.col("timestamp").is_duplicated() & ~pl.col("timestamp").is_first_distinct()
    )
    if dup_rows.height:
        work = work.with_columns(
            __reason=pl.when(pl.col("__row").is_in(dup_rows["__row"].implode()))
            .then(pl.lit("duplicate timestamp")).otherwise(pl.col("__reason"))
        )
        valid = valid.filter(pl.col("timestamp").is_first_distinct())
    report.duplicates = dup_rows.height

    bad = work.filter(pl.col("__reason").is_not_null())
    report.rejected = bad.height
    counts = bad.group_by("__reason").len().sort(["len", "__reason"], descending=[True, False])
    report.rejected_by_reason = dict(
        zip(counts["__reason"].to_list(), counts["len"].to_list(), strict=False)
    )
    report.examples = _examples(bad)
    if valid.height == 0:
        top = ", ".join(f"{k}: {v}" for k, v in list(report.rejected_by_reason.items())[:3])
        scale = (f"; prices must lie between {PRICE_MIN:g} and {PRICE_MAX:g}: rescale the "
                 "series (tiny prices per thousand units, huge ones in thousands)"
                 if _PRICE_RANGE in report.rejected_by_reason else "")
        raise DataError(
            f"no valid rows in {symbol or 'the data'}: all {df.height} rows were rejected "
            f"({top}); fix those rows (see the examples with `--json`) and import again{scale}"
        )
    out = valid.select(
        pl.col("timestamp").cast(pl.Datetime("us")),
        *[pl.col(c).cast(pl.Float64) for c in PRICES + ["volume"]],
    )
    report.rows = out.height
    report.start, report.end = out["timestamp"][0], out["timestamp"][-1]
    report.timeframe, spacing = infer_timeframe(out["timestamp"])
    gaps, n_gaps, missing = find_gaps(out["timestamp"], spacing)
    report.gaps, report.n_gaps, report.missing_bars = gaps[:MAX_GAPS], n_gaps, missing
    if report.rejected:
        report.warnings.append(f"{report.rejected} of {report.source_rows} rows rejected")
    return out, report


def _rows_text(rows: list[int], limit: int = 5) -> str:
    """``[3, 4, 9]`` → ``rows 3, 4, 9``; longer lists end ``… and 17 more``."""
    head = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {head}{more}"


def _refuse_decimal_commas(mapped: pl.DataFrame) -> None:
    """Refuse numbers written with a decimal comma (``"1,5"``), which the thousands rule
    would silently read as 15. A comma is a thousands separator only between groups of
    three digits (``1,000.5``); any other comma in a price or volume column refuses the file."""
    columns = [c for c in PRICES + ["volume"] if mapped[c].dtype == pl.String]
    if not columns:
        return
    flags = [(pl.col(c).str.contains(",", literal=True) & ~pl.col(c).str.contains(_THOUSANDS))
             .fill_null(False).alias(c) for c in columns]
    hit = mapped.with_row_index("__row", offset=1).select("__row", *columns, *[
        f.alias(f"__comma_{c}") for f, c in zip(flags, columns, strict=True)]).filter(
        pl.any_horizontal([f"__comma_{c}" for c in columns]))
    if hit.height == 0:
        return
    where = [c for c in columns if hit[f"__comma_{c}"].any()]
    first = hit.row(0, named=True)
    ex_col = next(c for c in where if first[f"__comma_{c}"])
    raise DataError(
        f"numbers written with a decimal comma in {', '.join(where)} "
        f"({_rows_text(hit['__row'].to_list())}; e.g. {ex_col} {first[ex_col].strip()!r} in "
        f"row {first['__row']}): a comma would be read as a thousands separator (1,5 as 15), "
        "so nothing was imported; write decimals with a point (1.5) — e.g. export the file "
        "with an English number format — and import again")


def _examples(bad: pl.DataFrame) -> list[dict[str, Any]]:
    rows = bad.sort("__row").head(MAX_EXAMPLES)
    examples = []
    for r in rows.iter_rows(named=True):
        values = {c: (None if r[f"__raw_{'ts' if c == 'timestamp' else c}"] is None
                      else str(r[f"__raw_{'ts' if c == 'timestamp' else c}"])) for c in CANONICAL}
        examples.append({"row": int(r["__row"]), "reason": r["__reason"], "values": values})
    return examples


# ------------------------------------------------------------------- timeframe and gaps

_NAMED = [(60, "1m"), (300, "5m"), (900, "15m"), (1800, "30m"), (3600, "1h"), (14400, "4h"),
          (86400, "1d"), (7 * 86400, "1w")]


def infer_timeframe(ts: pl.Series) -> tuple[str, float]:
    """The bar spacing as a label ("1d", "1h", "1mo", …) and in seconds (median distance)."""
    if ts.len() < 2:
        return "unknown", 0.0
    d = ts.diff().drop_nulls().dt.total_microseconds().cast(pl.Float64) / 1e6
    spacing = float(d.median())
    day = 86400.0
    if 27 * day <= spacing <= 32 * day:
        return "1mo", spacing
    if 88 * day <= spacing <= 93 * day:
        return "3mo", spacing
    if 360 * day <= spacing <= 367 * day:
        return "1y", spacing
    for sec, label in _NAMED:
        if abs(spacing - sec) < 1e-6:
            return label, spacing
    for unit, suffix in ((7 * day, "w"), (day, "d"), (3600.0, "h"), (60.0, "m"), (1.0, "s")):
        if spacing >= unit and math.isclose(spacing / unit, round(spacing / unit)):
            return f"{round(spacing / unit)}{suffix}", spacing
    return f"{spacing:g}s", spacing


def find_gaps(ts: pl.Series, spacing: float) -> tuple[list[dict[str, Any]], int, int]:
    """Gaps by the rule in the module docstring: (first gaps, number of gaps, missing bars)."""
    if ts.len() < 2 or spacing <= 0:
        return [], 0, 0
    t = ts.to_numpy().astype("datetime64[us]")
    prev, cur = t[:-1], t[1:]
    delta = (cur - prev).astype(np.int64) / 1e6
    day = 86400.0
    if abs(spacing - day) < 1e-6:
        days = t.astype("datetime64[D]")
        weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
        if np.mean(weekday >= 5) > 0.05:  # trades at weekends: every calendar day expected
            missing = np.round(delta / day).astype(np.int64) - 1
        else:
            missing = np.busday_count(days[:-1] + 1, days[1:])
            missing = np.where(missing > HOLIDAY_ALLOWANCE, missing, 0)
    elif spacing < day:
        missing = np.round(delta / spacing).astype(np.int64) - 1
        same_day = prev.astype("datetime64[D]") == cur.astype("datetime64[D]")
        per_day = np.unique(t.astype("datetime64[D]"), return_counts=True)[1]
        around_clock = np.median(per_day) >= 0.9 * day / spacing
        if not around_clock:
            missing = np.where(same_day, missing, 0)
    else:
        missing = np.where(delta > 1.5 * spacing, np.round(delta / spacing).astype(np.int64) - 1, 0)
    idx = np.flatnonzero(missing > 0)
    gaps = [
        {"after": prev[i].astype(datetime), "before": cur[i].astype(datetime),
         "missing_bars": int(missing[i])}
        for i in idx[:MAX_GAPS]
    ]
    return gaps, int(idx.size), int(missing[idx].sum())
