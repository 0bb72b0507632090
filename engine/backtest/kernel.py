"""Compiled kernels (numba): signals, the single-symbol simulation, metrics, batches.

The execution semantics of ARCHITECTURE.md live in one place, the per-bar step of
:mod:`engine.backtest.step`; :func:`simulate_nb` here runs it on one symbol and
:func:`engine.backtest.portfolio_kernel.simulate_portfolio_nb` on several. The
single backtest, the batch evaluator (:func:`run_batch_nb`) and the portfolio therefore give
exactly the same numbers for the same bars. Array layouts (trade records, statistics and
metric slots, strategy ids) are named in :mod:`engine.backtest.enums`. Only NumPy arrays and
scalars in and out.

Signals (``int8``): ``+1`` wants long, ``-1`` wants out of a long (or short, when shorting is
allowed), ``0`` nothing. A signal at the close of bar ``t`` fills at the open of ``t+1``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine.backtest.enums import (
    BOLLINGER,
    GENOME,
    M_AVG_TRADE_BARS,
    M_AVG_TRADE_PCT,
    M_BEST_TRADE_PCT,
    M_BUY_HOLD_RETURN_PCT,
    M_CAGR_PCT,
    M_EXPOSURE_PCT,
    M_FINAL_EQUITY,
    M_MAX_DRAWDOWN_DURATION_BARS,
    M_MAX_DRAWDOWN_PCT,
    M_N_TRADES,
    M_PROFIT_FACTOR,
    M_SHARPE,
    M_SORTINO,
    M_TOTAL_RETURN_PCT,
    M_VOLATILITY_ANN_PCT,
    M_WIN_RATE_PCT,
    M_WORST_TRADE_PCT,
    MACD,
    N_STATS,
    RSI,
    SMA_CROSS,
    ST_BARS_HELD,
    ST_BEST_RETURN,
    ST_COUNT,
    ST_GROSS_LOSS,
    ST_GROSS_PROFIT,
    ST_SUM_RETURN,
    ST_WINS,
    ST_WORST_RETURN,
    TRADE_DTYPE,
)

# numba's threading layer (workqueue) and its keyed on-disk cache are set up there, before
# any kernel is compiled; every parallel kernel call goes through PARALLEL_LOCK.
from engine.backtest.numba_setup import PARALLEL_LOCK, SERIAL_WORK
from engine.backtest.step import simulate_one_bars_nb

__all__ = ["PARALLEL_LOCK", "SERIAL_WORK", "evaluate_one_nb", "metrics_nb", "run_batch_nb",
           "run_batch_serial_nb", "signals_nb", "simulate_nb"]


# --------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _cross_signals_nb(a, b, out):
    """+1 where a crosses above b at t, -1 where it crosses below (strict on both bars)."""
    n = a.shape[0]
    out[0] = 0
    for t in range(1, n):
        a0, b0, a1, b1 = a[t - 1], b[t - 1], a[t], b[t]
        if math.isnan(a0) or math.isnan(b0) or math.isnan(a1) or math.isnan(b1):
            out[t] = 0
        elif a0 < b0 and a1 > b1:
            out[t] = 1
        elif a0 > b0 and a1 < b1:
            out[t] = -1
        else:
            out[t] = 0


@njit(cache=True, nogil=True)
def signals_nb(strategy, bank, rows, vals, close, volume, out):
    """Fill ``out`` with the signals of one parameter set.

    ``bank`` holds the indicator rows (NaN during warm-up); ``rows``/``vals`` are the
    parameter set packed by :mod:`engine.backtest.strategies`.
    """
    n = close.shape[0]
    if strategy == SMA_CROSS or strategy == MACD:
        _cross_signals_nb(bank[rows[0]], bank[rows[1]], out)
        return
    if strategy == GENOME:
        _genome_signals_nb(bank[rows[0]], bank[rows[1]], bank[rows[2]], bank[rows[3]],
                           bank[rows[4]], bank[rows[5]], bank[rows[6]], vals[0], vals[1],
                           vals[2], close, volume, out)
        return
    for t in range(n):
        out[t] = 0
    if strategy == RSI:
        r = bank[rows[0]]
        lo, hi = vals[0], vals[1]
        for t in range(n):
            if not math.isnan(r[t]):
                if r[t] < lo:
                    out[t] = 1
                elif r[t] > hi:
                    out[t] = -1
    elif strategy == BOLLINGER:
        mid, sd = bank[rows[0]], bank[rows[1]]
        k = vals[0]
        for t in range(n):
            if not (math.isnan(mid[t]) or math.isnan(sd[t])):
                if close[t] < mid[t] - k * sd[t]:
                    out[t] = 1
                elif close[t] > mid[t] + k * sd[t]:
                    out[t] = -1


@njit(cache=True, nogil=True)
def _genome_signals_nb(r, fast, slow, hist, mid, sd, vsma, lo, hi, k, close, volume, out):
    """The genome's vote (module docstring of :mod:`engine.backtest.strategies`), without a
    branch so the loop vectorises (4x faster than the branching form, same signals).

    Each vote is a difference of two comparisons (at most one holds: ``lo < hi``, the
    bands are ordered), a comparison with NaN is false, and a bar where any indicator is
    NaN (warm-up) signals nothing; entry (score >= 2 with the volume filter) and exit
    (score <= -2) exclude each other.
    """
    for t in range(close.shape[0]):
        rt, f, s, h, md, d, vs = r[t], fast[t], slow[t], hist[t], mid[t], sd[t], vsma[t]
        valid = ((rt == rt) & (f == f) & (s == s) & (h == h) & (md == md) & (d == d)
                 & (vs == vs))
        c = close[t]
        score = (np.int8(rt < lo) - np.int8(rt > hi) + np.int8(f > s) - np.int8(f < s)
                 + np.int8(h > 0.0) - np.int8(h < 0.0) + np.int8(c < md - k * d)
                 - np.int8(c > md + k * d))
        entry = valid & (score >= 2) & (volume[t] > vs)
        exit_ = valid & (score <= -2)
        out[t] = np.int8(entry) - np.int8(exit_)


# --------------------------------------------------------------------------------------
# Single-instrument simulation: the one-symbol case of the shared bar step
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def simulate_nb(open_, high, low, close, signal, allow_short, sl_frac, tp_frac, size_frac,
                cash0, commission, whole_units, equity, pos_out, stats, record, trades):
    """Run one backtest; write the equity curve (and position) per bar.

    ``sl_frac``/``tp_frac`` <= 0 switch stops off; ``size_frac`` <= 0 means all-in.
    ``stats`` (``N_STATS`` zeros) receives the running trade statistics (``ST_*`` slots);
    ``trades`` receives :data:`~engine.backtest.enums.TRADE_DTYPE` records when ``record`` is
    true and must hold ``count_nonzero(signal) + 1`` rows (every trade starts with a
    signal). Returns the number of trades. This is the shared bar loop of
    :mod:`engine.backtest.step` on one symbol (1-row views of the inputs, so the arrays must
    be C-contiguous); nothing is allocated in the loop.
    """
    n = close.shape[0]
    return simulate_one_bars_nb(open_.reshape((1, n)), high.reshape((1, n)),
                                low.reshape((1, n)), close.reshape((1, n)),
                                signal.reshape((1, n)), allow_short, sl_frac, tp_frac,
                                size_frac, 1, cash0, commission, whole_units, equity,
                                pos_out.reshape((1, n)), stats, record, trades)


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def metrics_nb(equity, pos, stats, cash0, close, periods_per_year, out):
    """Fill ``out`` (length ``N_KERNEL_METRICS``, ``M_*`` slots) from an equity curve and
    the running trade statistics (``ST_*`` slots). ``pos`` is non-zero on bars that end with
    a position open (exposure)."""
    n = equity.shape[0]
    final = equity[n - 1]
    out[M_TOTAL_RETURN_PCT] = (final / cash0 - 1.0) * 100.0
    years = (n - 1) / periods_per_year if periods_per_year > 0 else 0.0
    if years > 0 and final > 0:
        out[M_CAGR_PCT] = ((final / cash0) ** (1.0 / years) - 1.0) * 100.0
    else:
        out[M_CAGR_PCT] = -100.0 if final <= 0 else 0.0
    # pass 1: the mean return, each bar's return kept for pass 2 (dividing once: pass 2
    # reads the same values in the same order — bit for bit the sums of dividing again);
    # drawdown and exposure in loops of their own (simple loops run faster than one loop
    # doing all three)
    rets = np.empty(n)
    m = 0.0
    cnt = 0
    for t in range(1, n):
        prev = equity[t - 1]
        if prev > 0:
            r = equity[t] / prev - 1.0
            rets[cnt] = r
            m += r
            cnt += 1
    # drawdown without a division per bar: the deepest point of each fall is its trough (the
    # lowest equity since the peak), and trough / peak - 1 is monotone in the trough, so
    # dividing once per fall gives bit for bit the minimum of dividing every bar
    peak = equity[0]
    peak_i = 0
    trough = np.inf
    worst = 0.0
    longest = 0
    for t in range(n):
        e = equity[t]
        if e >= peak:
            if trough < peak:
                worst = min(worst, trough / peak - 1.0 if peak > 0 else -1.0)
                longest = max(longest, t - 1 - peak_i)
                trough = np.inf
            peak = e
            peak_i = t
        elif e < trough:
            trough = e
    if trough < peak:
        worst = min(worst, trough / peak - 1.0 if peak > 0 else -1.0)
        longest = max(longest, n - 1 - peak_i)
    exposed = 0
    for t in range(n):
        exposed += pos[t] != 0.0
    mean = m / cnt if cnt > 0 else 0.0
    # pass 2: dispersion around the mean (two passes for accuracy); four partial sums break
    # the chain of dependent additions (pairwise summation, no less accurate) and the
    # downside term is selected, not branched on
    s0 = s1 = s2 = s3 = 0.0
    dss = 0.0
    i = 0
    while i + 4 <= cnt:
        d0 = rets[i] - mean
        d1 = rets[i + 1] - mean
        d2 = rets[i + 2] - mean
        d3 = rets[i + 3] - mean
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        i += 4
    while i < cnt:
        d0 = rets[i] - mean
        s0 += d0 * d0
        i += 1
    ss = (s0 + s1) + (s2 + s3)
    for i in range(cnt):
        r = rets[i]
        q = r if r < 0 else 0.0
        dss += q * q
    sd = math.sqrt(ss / (cnt - 1)) if cnt > 1 else 0.0
    dd = math.sqrt(dss / cnt) if cnt > 0 else 0.0
    ann = math.sqrt(periods_per_year) if periods_per_year > 0 else 0.0
    out[M_VOLATILITY_ANN_PCT] = sd * ann * 100.0
    out[M_SHARPE] = mean / sd * ann if sd > 0 else 0.0
    if dd > 0:
        out[M_SORTINO] = mean / dd * ann
    else:
        out[M_SORTINO] = np.inf if mean > 0 else 0.0
    out[M_MAX_DRAWDOWN_PCT] = worst * 100.0
    out[M_MAX_DRAWDOWN_DURATION_BARS] = longest
    nt = stats[ST_COUNT]
    out[M_WIN_RATE_PCT] = stats[ST_WINS] / nt * 100.0 if nt > 0 else 0.0
    if stats[ST_GROSS_LOSS] > 0:
        out[M_PROFIT_FACTOR] = stats[ST_GROSS_PROFIT] / stats[ST_GROSS_LOSS]
    else:
        out[M_PROFIT_FACTOR] = np.inf if stats[ST_GROSS_PROFIT] > 0 else 0.0
    out[M_AVG_TRADE_PCT] = stats[ST_SUM_RETURN] / nt * 100.0 if nt > 0 else 0.0
    out[M_BEST_TRADE_PCT] = stats[ST_BEST_RETURN] * 100.0 if nt > 0 else 0.0
    out[M_WORST_TRADE_PCT] = stats[ST_WORST_RETURN] * 100.0 if nt > 0 else 0.0
    out[M_EXPOSURE_PCT] = exposed / n * 100.0
    out[M_N_TRADES] = nt
    out[M_FINAL_EQUITY] = final
    out[M_BUY_HOLD_RETURN_PCT] = (close[n - 1] / close[0] - 1.0) * 100.0
    out[M_AVG_TRADE_BARS] = stats[ST_BARS_HELD] / nt if nt > 0 else 0.0


# --------------------------------------------------------------------------------------
# Batch: many parameter sets on one dataset, in parallel
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def evaluate_one_nb(strategy, bank, rows, vals, open_, high, low, close, volume, allow_short,
                    sl_frac, tp_frac, size_frac, cash0, commission, whole_units,
                    periods_per_year, out):
    """One parameter set of a batch: signals, simulation, metrics into ``out``."""
    n = close.shape[0]
    sig = np.empty(n, np.int8)
    eq = np.empty(n)
    pos = np.empty(n)
    stats = np.zeros(N_STATS)
    signals_nb(strategy, bank, rows, vals, close, volume, sig)
    simulate_nb(open_, high, low, close, sig, allow_short, sl_frac, tp_frac, size_frac, cash0,
                commission, whole_units, eq, pos, stats, False, np.empty(0, TRADE_DTYPE))
    metrics_nb(eq, pos, stats, cash0, close, periods_per_year, out)


@njit(cache=True, nogil=True, parallel=True)
def run_batch_nb(strategy, bank, rows, vals, open_, high, low, close, volume, allow_short,
                 sl_frac, tp_frac, size_frac, cash0, commission, whole_units,
                 periods_per_year, out):
    """Evaluate ``rows.shape[0]`` parameter sets; metrics go to ``out[j, :]``.

    ``sl_frac``, ``tp_frac`` and ``size_frac`` are per parameter set (the genome evolves
    them). The same signal, simulation and metric code as a single backtest runs here.
    """
    for j in prange(rows.shape[0]):
        evaluate_one_nb(strategy, bank, rows[j], vals[j], open_, high, low, close, volume,
                        allow_short, sl_frac[j], tp_frac[j], size_frac[j], cash0, commission,
                        whole_units, periods_per_year, out[j])


@njit(cache=True, nogil=True)
def run_batch_serial_nb(strategy, bank, rows, vals, open_, high, low, close, volume,
                        allow_short, sl_frac, tp_frac, size_frac, cash0, commission,
                        whole_units, periods_per_year, out):
    """:func:`run_batch_nb` on one thread, for batches below ``SERIAL_WORK``."""
    for j in range(rows.shape[0]):
        evaluate_one_nb(strategy, bank, rows[j], vals[j], open_, high, low, close, volume,
                        allow_short, sl_frac[j], tp_frac[j], size_frac[j], cash0, commission,
                        whole_units, periods_per_year, out[j])
