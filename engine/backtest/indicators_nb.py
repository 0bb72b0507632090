"""Compiled indicators for the indicator bank (numba): the same numbers as the polars reference.

:mod:`engine.market.indicators` stays the documented reference (polars expressions, checked
against TA-Lib); these kernels compute the same definitions on NumPy arrays without the
per-expression overhead, so a batch of 1,000 genomes builds its ~900 distinct indicators in
milliseconds. tests/backtest/test_indicator_bank.py keeps every indicator of the genome's
ranges equal to polars and TA-Lib to 1e-9, warm-up NaN positions included. They follow
polars' arithmetic where that is cheap, so most values are bit-identical to it:

- ``sma_nb``: a sliding sum with Kahan compensation (separate error terms for the value
  entering and the value leaving, the leaving one first), divided by ``n``; leading NaN are
  skipped (so it also seeds series that start late, like the MACD line);
- ``std_nb``: population standard deviation (ddof = 0, as polars' ``rolling_std(n,
  ddof=0)`` and TA-Lib's BBANDS), two passes per window around the ``sma_nb`` mean — the
  accurate form (TA-Lib's sum of squares loses ~1e-10 on prices near 1,000);
- ``seeded_ewm_nb``: the SMA of the first ``n`` defined values, then
  ``e_t = e_{t-1} + alpha·(x_t - e_{t-1})`` (EMA: alpha = 2/(n+1); Wilder: 1/n);
- ``rsi_nb``: Wilder's RSI of ARCHITECTURE.md (first average gain/loss the mean of the first
  ``n`` changes, defined from bar ``n``; 100 when the average loss is 0);
- MACD: ``line = EMA(fast) − EMA(slow)``, ``signal = seeded EWM of the line``, ``hist = line
  − signal``.

NaN marks warm-up (the polars reference's nulls). :func:`fill_bank_nb` computes many rows in
parallel (one ``prange`` over the keys), each distinct EMA once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine.backtest import numba_setup  # noqa: F401  (threading layer and cache first)

# Row kinds of fill_bank_nb (bank keys ("sma", n), ("std", n), ...).
K_SMA = 0        # SMA(close, p1)
K_STD = 1        # population std of close over p1
K_RSI = 2        # RSI(close, p1)
K_VOL_SMA = 3    # SMA(volume, p1)
K_MACD_LINE = 4  # EMA(p1) - EMA(p2)
K_MACD_SIGNAL = 5  # seeded EWM(p3) of the line
K_MACD_HIST = 6  # line - signal


@njit(cache=True, nogil=True)
def sma_nb(x, n, out):
    """SMA over ``n`` values into ``out``; NaN until ``n`` values after the leading NaN."""
    m = x.shape[0]
    first = 0
    while first < m and math.isnan(x[first]):
        first += 1
    for t in range(min(m, first + n - 1)):
        out[t] = np.nan
    s = 0.0
    err_add = 0.0
    err_sub = 0.0
    for t in range(first, m):
        if t - n >= first:  # the leaving value first, as polars' sliding window does
            y = -x[t - n] - err_sub
            ns = s + y
            err_sub = (ns - s) - y
            s = ns
        y = x[t] - err_add
        ns = s + y
        err_add = (ns - s) - y
        s = ns
        if t - first + 1 >= n:
            out[t] = s / n


@njit(cache=True, nogil=True)
def std_nb(x, n, out):
    """Population standard deviation over ``n`` values (two passes per window)."""
    m = x.shape[0]
    sma_nb(x, n, out)  # the window means (NaN during warm-up)
    for t in range(m - 1, -1, -1):  # backwards: out[t] still holds the mean of window t
        mean = out[t]
        if math.isnan(mean):
            continue
        ss = 0.0
        for i in range(t - n + 1, t + 1):
            d = x[i] - mean
            ss += d * d
        out[t] = math.sqrt(ss / n)


@njit(cache=True, nogil=True)
def seeded_ewm_nb(x, n, alpha, out):
    """Exponential smoothing seeded with the SMA of the first ``n`` defined values."""
    m = x.shape[0]
    sma_nb(x, n, out)
    t0 = 0
    while t0 < m and math.isnan(out[t0]):
        t0 += 1
    if t0 >= m:
        return
    prev = out[t0]
    for t in range(t0 + 1, m):
        prev = prev + alpha * (x[t] - prev)
        out[t] = prev


@njit(cache=True, nogil=True)
def ema_nb(x, n, out):
    """TA-Lib's EMA: seeded with the SMA of the first ``n`` values, alpha = 2/(n+1)."""
    seeded_ewm_nb(x, n, 2.0 / (n + 1), out)


@njit(cache=True, nogil=True)
def rsi_nb(close, n, out):
    """Wilder's RSI (0–100), defined from bar ``n``."""
    m = close.shape[0]
    gain = np.empty(m)
    loss = np.empty(m)
    gain[0] = np.nan
    loss[0] = np.nan
    for t in range(1, m):
        d = close[t] - close[t - 1]
        gain[t] = d if d > 0 else 0.0
        loss[t] = -d if d < 0 else 0.0
    ag = np.empty(m)
    al = np.empty(m)
    seeded_ewm_nb(gain, n, 1.0 / n, ag)
    seeded_ewm_nb(loss, n, 1.0 / n, al)
    for t in range(m):
        if math.isnan(al[t]):
            out[t] = np.nan
        elif al[t] == 0.0:
            out[t] = 100.0
        else:
            out[t] = 100.0 - 100.0 / (1.0 + ag[t] / al[t])


@njit(cache=True, nogil=True)
def macd_nb(ema_fast, ema_slow, signal, line, sig, hist):
    """MACD line, signal line and histogram from the two EMAs."""
    m = ema_fast.shape[0]
    for t in range(m):
        line[t] = ema_fast[t] - ema_slow[t]
    seeded_ewm_nb(line, signal, 2.0 / (signal + 1), sig)
    for t in range(m):
        hist[t] = line[t] - sig[t]


@njit(cache=True, nogil=True)
def macd_seed_nb(ema_fast, ema_slow, signal, hist, out):
    """The warm-up NaN and the seed of a MACD signal (or histogram) row; returns ``(seed_at,
    prev)``: the bar of the seed and the signal line there (``seed_at >= len`` when the row
    is never defined).

    The line's first ``signal`` defined values are summed with the compensated sum of
    :func:`sma_nb` (no value has left the window yet) and divided by ``signal``.
    """
    m = ema_fast.shape[0]
    first = 0
    while first < m and math.isnan(ema_fast[first] - ema_slow[first]):
        first += 1
    seed_at = first + signal - 1
    for t in range(min(m, seed_at)):
        out[t] = np.nan
    if seed_at >= m:
        return m, 0.0
    s = 0.0
    err_add = 0.0
    for t in range(first, seed_at + 1):
        y = (ema_fast[t] - ema_slow[t]) - err_add
        ns = s + y
        err_add = (ns - s) - y
        s = ns
    prev = s / signal
    line = ema_fast[seed_at] - ema_slow[seed_at]
    out[seed_at] = line - prev if hist else prev
    return seed_at, prev


@njit(cache=True, nogil=True)
def macd_signal_row_nb(ema_fast, ema_slow, signal, hist, out):
    """The MACD signal line (or, with ``hist``, the histogram) in one pass, no allocation.

    The same arithmetic as :func:`macd_nb`: the seed of :func:`macd_seed_nb`, then
    ``e_t = e_{t-1} + alpha·(line_t - e_{t-1})``.
    """
    seed_at, prev = macd_seed_nb(ema_fast, ema_slow, signal, hist, out)
    macd_steps_nb(ema_fast, ema_slow, 2.0 / (signal + 1), hist, out, prev, seed_at + 1,
                  ema_fast.shape[0])


@njit(cache=True, nogil=True)
def macd_steps_nb(ema_fast, ema_slow, alpha, hist, out, prev, t0, t1):
    """Bars ``t0 .. t1-1`` of a MACD signal row from the signal line ``prev`` before them;
    returns the signal line after them."""
    for t in range(t0, t1):
        line = ema_fast[t] - ema_slow[t]
        prev = prev + alpha * (line - prev)
        out[t] = line - prev if hist else prev
    return prev


@njit(cache=True, nogil=True)
def macd_signal_rows4_nb(f0, s0, g0, h0, o0, f1, s1, g1, h1, o1, f2, s2, g2, h2, o2,
                         f3, s3, g3, h3, o3):
    """Four :func:`macd_signal_row_nb` rows at once, bit for bit the same values.

    Each row's recurrence is a chain of dependent operations (subtract, multiply, add: the
    CPU waits for each result); four independent chains in one loop keep it busy instead —
    the one-thread fill of 1,000 genomes' 854 rows (~700 of them MACD) took 6.1 ms one row
    at a time and 4.1 ms with this.
    """
    m = f0.shape[0]
    a0, p0 = macd_seed_nb(f0, s0, g0, h0, o0)
    a1, p1 = macd_seed_nb(f1, s1, g1, h1, o1)
    a2, p2 = macd_seed_nb(f2, s2, g2, h2, o2)
    a3, p3 = macd_seed_nb(f3, s3, g3, h3, o3)
    al0, al1, al2, al3 = 2.0 / (g0 + 1), 2.0 / (g1 + 1), 2.0 / (g2 + 1), 2.0 / (g3 + 1)
    start = min(m, max(max(a0, a1), max(a2, a3)) + 1)
    # each row up to the shared start, then the four together
    p0 = macd_steps_nb(f0, s0, al0, h0, o0, p0, a0 + 1, start)
    p1 = macd_steps_nb(f1, s1, al1, h1, o1, p1, a1 + 1, start)
    p2 = macd_steps_nb(f2, s2, al2, h2, o2, p2, a2 + 1, start)
    p3 = macd_steps_nb(f3, s3, al3, h3, o3, p3, a3 + 1, start)
    for t in range(start, m):
        l0 = f0[t] - s0[t]
        l1 = f1[t] - s1[t]
        l2 = f2[t] - s2[t]
        l3 = f3[t] - s3[t]
        p0 = p0 + al0 * (l0 - p0)
        p1 = p1 + al1 * (l1 - p1)
        p2 = p2 + al2 * (l2 - p2)
        p3 = p3 + al3 * (l3 - p3)
        o0[t] = l0 - p0 if h0 else p0
        o1[t] = l1 - p1 if h1 else p1
        o2[t] = l2 - p2 if h2 else p2
        o3[t] = l3 - p3 if h3 else p3


@njit(cache=True, nogil=True, parallel=True)
def emas_nb(close, periods, out):
    """``out[i] = EMA(close, periods[i])`` for each row, in parallel."""
    for i in prange(periods.shape[0]):
        ema_nb(close, periods[i], out[i])


@njit(cache=True, nogil=True)
def emas_serial_nb(close, periods, out):
    """:func:`emas_nb` on one thread (a few rows: no thread launch)."""
    for i in range(periods.shape[0]):
        ema_nb(close, periods[i], out[i])


@njit(cache=True, nogil=True)
def fill_row_nb(k, p1, p2, p3, close, volume, emas, ema_index, row):
    """``row`` gets the indicator ``(k, p1, p2, p3)`` (see :func:`fill_bank_nb`)."""
    if k == K_SMA:
        sma_nb(close, p1, row)
    elif k == K_STD:
        std_nb(close, p1, row)
    elif k == K_RSI:
        rsi_nb(close, p1, row)
    elif k == K_VOL_SMA:
        sma_nb(volume, p1, row)
    else:
        ef = emas[ema_index[p1]]
        es = emas[ema_index[p2]]
        if k == K_MACD_LINE:
            for t in range(close.shape[0]):
                row[t] = ef[t] - es[t]
        else:
            macd_signal_row_nb(ef, es, p3, k == K_MACD_HIST, row)


@njit(cache=True, nogil=True)
def _plan_nb(kind):
    """Work items of a bank fill: MACD signal/histogram rows in groups of four (the last
    group padded with its own last row), then every other row alone. Returns (macd rows,
    their count, other rows, their count)."""
    macd = np.empty(kind.shape[0], np.int64)
    other = np.empty(kind.shape[0], np.int64)
    n_macd = 0
    n_other = 0
    for i in range(kind.shape[0]):
        if kind[i] == K_MACD_SIGNAL or kind[i] == K_MACD_HIST:
            macd[n_macd] = i
            n_macd += 1
        else:
            other[n_other] = i
            n_other += 1
    return macd, n_macd, other, n_other


@njit(cache=True, nogil=True)
def _fill_item_nb(w, macd, n_macd, other, kind, p1, p2, p3, close, volume, emas, ema_index,
                  out):
    """Work item ``w`` of :func:`_plan_nb`'s plan."""
    n_groups = (n_macd + 3) // 4
    if w >= n_groups:
        i = other[w - n_groups]
        fill_row_nb(kind[i], p1[i], p2[i], p3[i], close, volume, emas, ema_index, out[i])
        return
    last = n_macd - 1
    i0 = macd[4 * w]
    i1 = macd[min(4 * w + 1, last)]
    i2 = macd[min(4 * w + 2, last)]
    i3 = macd[min(4 * w + 3, last)]
    macd_signal_rows4_nb(
        emas[ema_index[p1[i0]]], emas[ema_index[p2[i0]]], p3[i0], kind[i0] == K_MACD_HIST,
        out[i0],
        emas[ema_index[p1[i1]]], emas[ema_index[p2[i1]]], p3[i1], kind[i1] == K_MACD_HIST,
        out[i1],
        emas[ema_index[p1[i2]]], emas[ema_index[p2[i2]]], p3[i2], kind[i2] == K_MACD_HIST,
        out[i2],
        emas[ema_index[p1[i3]]], emas[ema_index[p2[i3]]], p3[i3], kind[i3] == K_MACD_HIST,
        out[i3])


@njit(cache=True, nogil=True, parallel=True)
def fill_bank_nb(kind, p1, p2, p3, close, volume, emas, ema_index, out):
    """Row ``i`` of ``out`` gets the indicator ``(kind[i], p1[i], p2[i], p3[i])``.

    ``emas`` holds EMA(close, p) in row ``ema_index[p]`` for every MACD period needed (each
    distinct EMA computed once, by :func:`emas_nb`), so a MACD row costs one more pass —
    four of them at a time (:func:`macd_signal_rows4_nb`).
    """
    macd, n_macd, other, n_other = _plan_nb(kind)
    for w in prange((n_macd + 3) // 4 + n_other):
        _fill_item_nb(w, macd, n_macd, other, kind, p1, p2, p3, close, volume, emas,
                      ema_index, out)


@njit(cache=True, nogil=True)
def fill_bank_serial_nb(kind, p1, p2, p3, close, volume, emas, ema_index, out):
    """:func:`fill_bank_nb` on one thread (a few rows: no thread launch)."""
    macd, n_macd, other, n_other = _plan_nb(kind)
    for w in range((n_macd + 3) // 4 + n_other):
        _fill_item_nb(w, macd, n_macd, other, kind, p1, p2, p3, close, volume, emas,
                      ema_index, out)
