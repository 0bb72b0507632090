"""Real daily bars from Yahoo Finance through the optional ``yfinance`` package.

Why optional: the lab must install and run offline; downloading is a convenience
(``pip install 'strategy-lab[download]'``). Downloaded bars go through the same validation
and store as an imported file (source ``"download"``). A second download of the same symbol
refreshes the earlier download; replacing an imported file needs ``overwrite=True``.

Daily bars keep the exchange's calendar date (midnight, no time-zone shift); intraday bars
are converted to naive UTC. Prices are adjusted for splits and dividends
(``auto_adjust=True``). The ``session`` argument is the test seam: any ``requests`` or
``curl_cffi`` session yfinance accepts, so tests fake the HTTP layer and never touch the
network.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from engine.errors import DownloadError
from engine.market.store import import_frame, normalise_symbol, parse_bound
from engine.market.validation import ImportReport

INTERVALS = ("1d", "1wk", "1mo", "1h", "30m", "15m", "5m", "1m")
INSTALL_HINT = "pip install 'strategy-lab[download]' (or pip install yfinance)"


def _yfinance() -> Any:
    try:
        import yfinance
    except ImportError:
        raise DownloadError(
            f"yfinance is not installed: {INSTALL_HINT}, or import a CSV/Parquet file with "
            "`python -m engine data import FILE --symbol SYM`"
        ) from None
    return yfinance


@contextmanager
def _exceptions_raised(yf: Any) -> Iterator[None]:
    """Make yfinance raise network errors instead of logging them and returning nothing."""
    cfg = getattr(getattr(yf, "config", None), "debug", None)
    old = getattr(cfg, "hide_exceptions", None)
    if cfg is not None and old is not None:
        cfg.hide_exceptions = False
    try:
        yield
    finally:
        if cfg is not None and old is not None:
            cfg.hide_exceptions = old


def _to_frame(pdf: Any, interval: str) -> pl.DataFrame:
    """yfinance's pandas frame (DatetimeIndex in the exchange's zone) → raw polars table."""
    pdf = pdf.copy()
    if getattr(pdf.columns, "nlevels", 1) > 1:  # (field, ticker) columns in some versions
        pdf.columns = pdf.columns.get_level_values(0)
    idx = pdf.index
    if getattr(idx, "tz", None) is not None:
        if interval in ("1d", "1wk", "1mo"):
            idx = idx.tz_localize(None)
        else:
            idx = idx.tz_convert("UTC").tz_localize(None)
    cols = {c.lower(): c for c in pdf.columns}
    data = {"timestamp": idx.to_numpy().astype("datetime64[us]")}
    for name in ("open", "high", "low", "close", "volume"):
        if name in cols:
            data[name] = pdf[cols[name]].to_numpy(dtype=float)
    return pl.DataFrame(data)


def download(
    symbol: str,
    *,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    interval: str = "1d",
    overwrite: bool = False,
    session: Any = None,
) -> ImportReport:
    """Fetch bars for ``symbol`` (``start``/``end`` inclusive; default: all history) and
    store them as a dataset; return the validation report.

    Raises :class:`~engine.errors.DownloadError` when yfinance is missing, the network
    fails or Yahoo returns no bars.
    """
    sym = normalise_symbol(symbol)
    if interval not in INTERVALS:
        raise DownloadError(
            f"interval {interval!r} is not supported; use one of {', '.join(INTERVALS)}"
        )
    lo = parse_bound(start, is_end=False, name="start")
    hi = parse_bound(end, is_end=True, name="end")
    yf = _yfinance()
    kwargs: dict[str, Any] = {"interval": interval, "auto_adjust": True, "actions": False}
    if lo is None and hi is None:
        kwargs["period"] = "max"
    else:
        kwargs["start"] = (lo or datetime(1970, 1, 2)).strftime("%Y-%m-%d")
        # yfinance's end is exclusive; ours includes the whole end day.
        kwargs["end"] = ((hi or datetime.now()) + timedelta(days=1)).strftime("%Y-%m-%d")
    try:
        with _exceptions_raised(yf):
            ticker = yf.Ticker(sym, session=session) if session is not None else yf.Ticker(sym)
            pdf = ticker.history(**kwargs)
    except DownloadError:
        raise
    except Exception as exc:
        raise DownloadError(
            f"could not download {sym} from Yahoo Finance ({type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0][:160] if str(exc).strip() else 'no detail'}); "
            "check the network connection and the symbol, or import a CSV file instead"
        ) from exc
    if pdf is None or len(pdf) == 0:
        window = (f" between {kwargs.get('start', 'the start')} and {kwargs.get('end', 'now')}"
                  if "start" in kwargs else "")
        raise DownloadError(
            f"Yahoo Finance returned no bars for {sym}{window}; check the symbol "
            "(e.g. AAPL, BTC-USD, ^GSPC), the dates and the network connection"
        )
    raw = _to_frame(pdf, interval)
    if hi is not None:
        raw = raw.filter(pl.col("timestamp") <= hi)
    return import_frame(
        raw, sym, source="download", overwrite=overwrite, replaceable_sources=("download",),
        description=(f"downloaded from Yahoo Finance ({interval}, "
                     "adjusted for splits and dividends)"),
    )
