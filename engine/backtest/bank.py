"""The indicator bank: every distinct indicator a batch needs, computed once, in compiled code.

A sweep over 1,000 SMA pairs needs perhaps 100 distinct SMAs, not 2,000; 1,000 random
genomes need about 900 distinct indicators, most of them MACD histograms — and every MACD
line is EMA(fast) − EMA(slow), so the genome's ranges need only 9 + 13 EMAs. The bank
collects the distinct :data:`~engine.backtest.strategies.IndicatorKey` values and computes
them with the kernels of :mod:`engine.backtest.indicators_nb` (each distinct EMA once, then
one parallel pass over the keys on all cores), handing the kernel a float64 matrix (one row
per indicator, NaN during warm-up) plus the key → row index. The polars expressions of
:mod:`engine.market.indicators` remain the documented reference (:func:`indicator_expr`);
tests/backtest/test_indicator_bank.py keeps the two equal to 1e-9.

**Kept and bounded.** A bank can be kept and grown across calls on the same data
(:meth:`IndicatorBank.ensure` appends only the keys it lacks — how an evolution re-uses most
indicators from one generation to the next). Its matrix never grows past ``max_bytes``
(default :data:`DEFAULT_MAX_BYTES`, 256 MiB — on GOOG daily's 2,148 bars that is ~15,600
rows, more than the genome's whole range of ~1,500 distinct indicators): when the keys of a
call would take it past the bound, the bank restarts holding only that call's keys. A single
call that alone needs more than the bound is still computed (its rows are needed), so the
bank holds at most ``max(max_bytes, one call's indicators)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from engine.backtest import indicators_nb as inb
from engine.backtest.numba_setup import PARALLEL_LOCK, SERIAL_WORK
from engine.market import indicators as ind

#: The default bound on one bank's matrix (bytes).
DEFAULT_MAX_BYTES = 256 * 1024 * 1024

_KINDS = {"sma": (inb.K_SMA, 1), "std": (inb.K_STD, 1), "rsi": (inb.K_RSI, 1),
          "vol_sma": (inb.K_VOL_SMA, 1), "macd_line": (inb.K_MACD_LINE, 2),
          "macd_signal": (inb.K_MACD_SIGNAL, 3), "macd_hist": (inb.K_MACD_HIST, 3)}


def indicator_expr(key: tuple) -> pl.Expr:
    """The polars (reference) expression for one bank key."""
    kind, *args = key
    if kind == "sma":
        return ind.sma("close", args[0])
    if kind == "std":
        return ind.rolling_std("close", args[0])
    if kind == "rsi":
        return ind.rsi("close", args[0])
    if kind == "vol_sma":
        return ind.volume_sma(args[0])
    if kind == "macd_line":
        return ind.ema("close", args[0]) - ind.ema("close", args[1])
    if kind == "macd_signal":
        return ind.macd("close", *args).signal
    if kind == "macd_hist":
        return ind.macd("close", *args).hist
    raise KeyError(f"unknown indicator key {key!r}")


def _check_key(key: tuple) -> tuple[int, int, int, int]:
    """(kind id, p1, p2, p3) of a key; KeyError for an unknown kind or bad periods."""
    if not isinstance(key, tuple) or not key or key[0] not in _KINDS:
        raise KeyError(f"unknown indicator key {key!r}; kinds: {', '.join(_KINDS)}")
    kind, n_args = _KINDS[key[0]]
    args = key[1:]
    if len(args) != n_args or not all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 1
            for a in args):
        raise KeyError(f"indicator key {key!r} needs {n_args} whole-number period(s) >= 1")
    p = [int(a) for a in args] + [0] * (3 - n_args)
    return kind, p[0], p[1], p[2]


def _float_column(data: pl.DataFrame, name: str) -> np.ndarray:
    col = data.get_column(name).cast(pl.Float64)
    if col.null_count():  # fill_null runs a lazy query (~5 ms): only when there are nulls
        col = col.fill_null(np.nan)
    return np.require(col.to_numpy(), np.float64, ("C", "W"))


def compute_rows(data: pl.DataFrame, keys: list[tuple], *, close: np.ndarray | None = None,
                 volume: np.ndarray | None = None, out: np.ndarray | None = None
                 ) -> np.ndarray:
    """A ``(len(keys), data.height)`` float64 matrix of the keys' indicators (compiled);
    ``close``/``volume``: the data's columns as float64 arrays when the caller has them;
    ``out``: a C-contiguous matrix of that shape to fill (a bank's free rows)."""
    out = np.empty((len(keys), data.height)) if out is None else out
    rows_filler(data, keys, out, close=close, volume=volume)()
    return out


def rows_filler(data: pl.DataFrame, keys: list[tuple], out: np.ndarray, *,
                close: np.ndarray | None = None, volume: np.ndarray | None = None
                ) -> Callable[[], None]:
    """:func:`compute_rows` in two steps: the keys checked and planned now (Python), and
    the returned call that fills ``out`` (compiled code only, the GIL released: an
    evolution runs it on its helper thread with the backtests, issue 11)."""
    n = data.height
    if not keys:
        return _nothing
    spec = np.array([_check_key(k) for k in keys], np.int64).reshape(len(keys), 4)
    close = _float_column(data, "close") if close is None else close
    if (spec[:, 0] == inb.K_VOL_SMA).any():
        volume = _float_column(data, "volume") if volume is None else volume
    else:
        volume = close
    is_macd = spec[:, 0] >= inb.K_MACD_LINE
    periods = np.unique(spec[is_macd][:, 1:3]) if is_macd.any() else np.empty(0, np.int64)
    periods = np.ascontiguousarray(periods, np.int64)
    ema_index = np.full(int(periods.max()) + 1 if periods.size else 1, -1, np.int64)
    ema_index[periods] = np.arange(periods.size)
    kind, p1, p2, p3 = (np.ascontiguousarray(spec[:, j]) for j in range(4))
    serial = len(keys) * n < SERIAL_WORK  # a few rows (a generation's new keys): no threads

    def fill() -> None:
        emas = np.empty((periods.size, n))
        if serial:
            if periods.size:
                inb.emas_serial_nb(close, periods, emas)
            inb.fill_bank_serial_nb(kind, p1, p2, p3, close, volume, emas, ema_index, out)
            return
        with PARALLEL_LOCK:
            if periods.size:
                inb.emas_nb(close, periods, emas)
            inb.fill_bank_nb(kind, p1, p2, p3, close, volume, emas, ema_index, out)

    return fill


def _nothing() -> None:
    return None


@dataclass
class IndicatorBank:
    """A matrix of indicator rows over one dataset and the index of each key.

    ``matrix`` is a C-contiguous view of the first ``len(index)`` rows of a buffer that
    grows by doubling, so appending a generation's new keys does not copy the whole bank.
    """

    matrix: np.ndarray  # shape (n_indicators, n_bars), float64, NaN during warm-up
    index: dict[tuple, int]
    max_bytes: int = DEFAULT_MAX_BYTES
    _buf: np.ndarray | None = field(default=None, repr=False, compare=False)
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, data: pl.DataFrame, keys: Iterable[tuple], *,
              max_bytes: int = DEFAULT_MAX_BYTES) -> IndicatorBank:
        bank = cls(np.empty((0, data.height)), {}, max_bytes)
        bank.ensure(data, keys)
        return bank

    @property
    def nbytes(self) -> int:
        """Bytes held by the bank's buffer (what the bound applies to)."""
        return int(self._buf.nbytes) if self._buf is not None else int(self.matrix.nbytes)

    def ensure(self, data: pl.DataFrame, keys: Iterable[tuple], *,
               max_bytes: int | None = None,
               deferred: list[Callable[[], None]] | None = None) -> None:
        """Compute and append the keys not in the bank yet.

        A bank that would grow past ``max_bytes`` (default: the bank's own bound) restarts
        from ``keys`` alone. ``deferred``: the new rows are indexed now but computed by the
        call appended to this list (:func:`rows_filler`), which must run before the bank's
        matrix is read.
        """
        bound = self.max_bytes if max_bytes is None else max_bytes
        wanted = list(dict.fromkeys(keys))
        if not self.index:
            self._memo.clear()  # an empty bank is bound to no data yet
        if self.matrix.shape[1] != data.height:
            if self.index:
                raise ValueError(
                    f"this bank was built on {self.matrix.shape[1]} bars, the data has "
                    f"{data.height}; build a new IndicatorBank for other data")
            self.matrix = np.empty((0, data.height))
            self._buf = None
        new = [k for k in wanted if k not in self.index]
        if not new:
            return
        row_bytes = data.height * 8
        if (len(self.index) + len(new)) * row_bytes > bound:
            self.matrix, self.index, self._buf, new = (np.empty((0, data.height)), {}, None,
                                                       wanted)
        base = len(self.index)
        need = base + len(new)
        buf = self._buf
        if buf is None or buf.shape[0] < need:
            cap = max(need, 2 * (buf.shape[0] if buf is not None else 0))
            cap = max(need, min(cap, bound // max(row_bytes, 1)))  # doubling stays in bound
            grown = np.empty((cap, data.height))
            grown[:base] = self.matrix
            buf = self._buf = grown
        # computed straight into the bank's free rows (no second copy of the new rows)
        fill = rows_filler(data, new, buf[base:need], close=self.memo(
            data, "close", lambda: _float_column(data, "close")), volume=self.memo(
            data, "volume", lambda: _float_column(data, "volume")))
        if deferred is None:
            fill()
        else:
            deferred.append(lambda: self._fill_or_forget(fill, data.height))
        self.matrix = buf[:need]
        self.index.update({k: base + i for i, k in enumerate(new)})

    def _fill_or_forget(self, fill: Callable[[], None], height: int) -> None:
        """A deferred fill; should it fail, the bank forgets everything rather than keep
        rows indexed but never computed."""
        try:
            fill()
        except BaseException:
            self.matrix, self.index, self._buf = np.empty((0, height)), {}, None
            raise

    def rows_of(self, data: pl.DataFrame, keys: list[tuple], *,
                deferred: list[Callable[[], None]] | None = None) -> np.ndarray:
        """The bank rows of ``keys`` (int64, in order), computing the ones it lacks
        (``deferred``: as :meth:`ensure`)."""
        self.ensure(data, keys, deferred=deferred)
        index = self.index
        return np.fromiter((index[k] for k in keys), np.int64, len(keys))

    def memo(self, data: pl.DataFrame, name: str, compute):
        """``compute()`` once per bank: arrays derived from the bank's one dataset (its
        float columns, bars per year) are kept with it, so a bank reused by every generation
        of an evolution converts them once. Keyed by ``name`` and the data's height (a bank
        refuses other data anyway)."""
        key = (name, data.height)
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def __len__(self) -> int:
        return len(self.index)
