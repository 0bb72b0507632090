"""Compiled simulation kernels (numba). Only NumPy arrays and scalars in and out.

This module is the single source of truth for the execution semantics written in
ARCHITECTURE.md; the single backtest, the batch evaluator and the portfolio all call
:func:`simulate_nb` and :func:`metrics_nb`, so a parameter set gives exactly the
same numbers whichever entry point runs it.

Signals (``int8``): ``+1`` wants long, ``-1`` wants out of a long (or short, when shorting is
allowed), ``0`` nothing. A signal at the close of bar ``t`` fills at the open of ``t+1``.
"""

from __future__ import annotations

import math
import os
import threading

# The "workqueue" threading layer does not spin-wait: on a 2-core desktop shared with the
# UI it runs a 1,000-backtest batch about 3x faster than OpenMP when the machine is busy.
# It is not safe for concurrent launches from several threads, so every parallel kernel
# call goes through PARALLEL_LOCK (see run_batch in runner.py). Users may still choose a
# layer with NUMBA_THREADING_LAYER.
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

import numpy as np  # noqa: E402
from numba import config as _numba_config  # noqa: E402
from numba import njit, prange  # noqa: E402

_numba_config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]
PARALLEL_LOCK = threading.Lock()

# Exit reasons (codes stored in trade records).
EXIT_SIGNAL = 0
EXIT_STOP_LOSS = 1
EXIT_TAKE_PROFIT = 2
EXIT_END = 3
EXIT_REASONS = ("signal", "stop_loss", "take_profit", "end")

# Trade record columns.
(T_ENTRY_BAR, T_EXIT_BAR, T_ENTRY_PRICE, T_EXIT_PRICE, T_SIZE, T_PNL, T_RETURN, T_REASON, T_COMM,
 T_SYMBOL) = range(10)
N_TRADE_FIELDS = 10

# Metric columns produced by metrics_nb (names in engine.backtest.metrics.KERNEL_METRICS).
N_KERNEL_METRICS = 17

# Strategy ids for signals_nb.
SMA_CROSS, RSI, MACD, BOLLINGER, GENOME = 0, 1, 2, 3, 4


# --------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------
@njit(cache=True)
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


@njit(cache=True)
def signals_nb(strategy, bank, rows, vals, close, volume, out):
    """Fill ``out`` with the signals of one parameter set.

    ``bank`` holds the indicator rows (NaN during warm-up); ``rows``/``vals`` are the
    parameter set packed by :mod:`engine.backtest.strategies`.
    """
    n = close.shape[0]
    if strategy == SMA_CROSS or strategy == MACD:
        _cross_signals_nb(bank[rows[0]], bank[rows[1]], out)
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
    elif strategy == GENOME:
        r, fast, slow, hist = bank[rows[0]], bank[rows[1]], bank[rows[2]], bank[rows[3]]
        mid, sd, vsma = bank[rows[4]], bank[rows[5]], bank[rows[6]]
        lo, hi, k = vals[0], vals[1], vals[2]
        for t in range(n):
            if (math.isnan(r[t]) or math.isnan(fast[t]) or math.isnan(slow[t])
                    or math.isnan(hist[t]) or math.isnan(mid[t]) or math.isnan(sd[t])
                    or math.isnan(vsma[t])):
                continue
            score = 0
            if r[t] < lo:
                score += 1
            elif r[t] > hi:
                score -= 1
            if fast[t] > slow[t]:
                score += 1
            elif fast[t] < slow[t]:
                score -= 1
            if hist[t] > 0.0:
                score += 1
            elif hist[t] < 0.0:
                score -= 1
            if close[t] < mid[t] - k * sd[t]:
                score += 1
            elif close[t] > mid[t] + k * sd[t]:
                score -= 1
            if score >= 2 and volume[t] > vsma[t]:
                out[t] = 1
            elif score <= -2:
                out[t] = -1


# --------------------------------------------------------------------------------------
# Single-instrument simulation
# --------------------------------------------------------------------------------------
@njit(cache=True)
def _units_nb(budget, price, commission, whole_units):
    u = budget / (price * (1.0 + commission))
    if whole_units:
        u = math.floor(u)
    return u if u > 0.0 else 0.0


@njit(cache=True)
def simulate_nb(open_, high, low, close, signal, allow_short, sl_frac, tp_frac, size_frac,
                cash0, commission, whole_units, equity, pos_out, stats, record, trades):
    """Run one backtest; write the equity curve (and position) per bar.

    ``sl_frac``/``tp_frac`` <= 0 switch stops off; ``size_frac`` <= 0 means all-in.
    ``stats`` (8 zeros) receives running trade statistics (n, wins, gross profit, gross
    loss, sum of returns, best, worst, bars held); ``trades`` receives the records when
    ``record`` is true and must hold ``count_nonzero(signal) + 1`` rows (every trade starts
    with a signal). Returns the number of trades. No array is (re)allocated in the loop, so
    the loop stays free of reference counting.
    """
    n = close.shape[0]
    cash = cash0
    size = 0.0
    entry_price = 0.0
    entry_bar = -1
    entry_comm = 0.0
    sl = 0.0
    tp = 0.0
    n_tr = 0
    bankrupt = False

    for i in range(n):
        if bankrupt:
            equity[i] = 0.0
            pos_out[i] = 0.0
            continue
        if i > 0:
            sig = signal[i - 1]
            px = open_[i]
            # 1. the pending market order fills at the open
            if sig != 0:
                close_it = (sig < 0 and size > 0.0) or (sig > 0 and size < 0.0)
                if close_it:
                    comm = abs(size) * px * commission
                    cash += size * px - comm
                    pnl = size * (px - entry_price) - entry_comm - comm
                    n_tr = _record_nb(record, trades, n_tr, stats, entry_bar, i,
                                              entry_price, px, size, pnl, EXIT_SIGNAL,
                                              entry_comm + comm)
                    size = 0.0
                if size == 0.0 and (sig > 0 or allow_short):
                    budget = cash if size_frac <= 0.0 else size_frac * cash
                    units = _units_nb(budget, px, commission, whole_units)
                    if units > 0.0:
                        size = units if sig > 0 else -units
                        entry_comm = units * px * commission
                        cash -= size * px + entry_comm
                        entry_price = px
                        entry_bar = i
                        if size > 0.0:
                            sl = px * (1.0 - sl_frac)
                            tp = px * (1.0 + tp_frac)
                        else:
                            sl = px * (1.0 + sl_frac)
                            tp = px * (1.0 - tp_frac)
            # 2. stop-loss / take-profit, from the bar after entry; stop-loss wins
            if size != 0.0 and entry_bar < i:
                hit = -1
                fill = 0.0
                if size > 0.0:
                    if sl_frac > 0.0 and low[i] <= sl:
                        hit = EXIT_STOP_LOSS
                        fill = min(open_[i], sl)
                    elif tp_frac > 0.0 and high[i] >= tp:
                        hit = EXIT_TAKE_PROFIT
                        fill = max(open_[i], tp)
                else:
                    if sl_frac > 0.0 and high[i] >= sl:
                        hit = EXIT_STOP_LOSS
                        fill = max(open_[i], sl)
                    elif tp_frac > 0.0 and low[i] <= tp:
                        hit = EXIT_TAKE_PROFIT
                        fill = min(open_[i], tp)
                if hit >= 0:
                    comm = abs(size) * fill * commission
                    cash += size * fill - comm
                    pnl = size * (fill - entry_price) - entry_comm - comm
                    n_tr = _record_nb(record, trades, n_tr, stats, entry_bar, i,
                                              entry_price, fill, size, pnl, hit,
                                              entry_comm + comm)
                    size = 0.0
        # 3. mark to market at the close
        equity[i] = cash + size * close[i]
        pos_out[i] = size
        # 4. equity wiped out (a short that ran away): liquidate at the close and stop, as
        #    backtesting.py does; the trade is reported as a stop_loss
        if size != 0.0 and equity[i] <= 0.0:
            px = close[i]
            comm = abs(size) * px * commission
            pnl = size * (px - entry_price) - entry_comm - comm
            n_tr = _record_nb(record, trades, n_tr, stats, entry_bar, i, entry_price, px, size,
                              pnl, EXIT_STOP_LOSS, entry_comm + comm)
            size = 0.0
            equity[i] = 0.0
            pos_out[i] = 0.0
            bankrupt = True
    if size != 0.0:
        pnl = size * (close[n - 1] - entry_price) - entry_comm
        n_tr = _record_nb(record, trades, n_tr, stats, entry_bar, n - 1, entry_price,
                                  close[n - 1], size, pnl, EXIT_END, entry_comm)
    return n_tr


@njit(cache=True)
def _record_nb(record, trades, n_tr, stats, entry_bar, exit_bar, entry_price, exit_price,
               size, pnl, reason, comm, sym=0):
    ret = pnl / (abs(size) * entry_price)
    stats[0] += 1.0
    if pnl > 0.0:
        stats[1] += 1.0
        stats[2] += pnl
    elif pnl < 0.0:
        stats[3] -= pnl
    stats[4] += ret
    if stats[0] == 1.0:
        stats[5] = ret
        stats[6] = ret
    else:
        stats[5] = max(stats[5], ret)
        stats[6] = min(stats[6], ret)
    stats[7] += exit_bar - entry_bar
    if record:
        trades[n_tr, T_ENTRY_BAR] = entry_bar
        trades[n_tr, T_EXIT_BAR] = exit_bar
        trades[n_tr, T_ENTRY_PRICE] = entry_price
        trades[n_tr, T_EXIT_PRICE] = exit_price
        trades[n_tr, T_SIZE] = size
        trades[n_tr, T_PNL] = pnl
        trades[n_tr, T_RETURN] = ret
        trades[n_tr, T_REASON] = reason
        trades[n_tr, T_COMM] = comm
        trades[n_tr, T_SYMBOL] = sym
    return n_tr + 1


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------
@njit(cache=True)
def metrics_nb(equity, pos, stats, cash0, close, periods_per_year, out):
    """Fill ``out`` (length N_KERNEL_METRICS) from an equity curve and trade statistics.

    Order: total_return_pct, cagr_pct, volatility_ann_pct, sharpe, sortino,
    max_drawdown_pct, max_drawdown_duration_bars, win_rate_pct, profit_factor,
    avg_trade_pct, best_trade_pct, worst_trade_pct, exposure_pct, n_trades, final_equity,
    buy_hold_return_pct, avg_trade_bars.
    """
    n = equity.shape[0]
    final = equity[n - 1]
    out[0] = (final / cash0 - 1.0) * 100.0
    years = (n - 1) / periods_per_year if periods_per_year > 0 else 0.0
    if years > 0 and final > 0:
        out[1] = ((final / cash0) ** (1.0 / years) - 1.0) * 100.0
    else:
        out[1] = -100.0 if final <= 0 else 0.0
    # pass 1: mean return, drawdown, exposure
    m = 0.0
    cnt = 0
    peak = equity[0]
    peak_i = 0
    worst = 0.0
    longest = 0
    exposed = 0
    for t in range(n):
        e = equity[t]
        if t > 0 and equity[t - 1] > 0:
            m += e / equity[t - 1] - 1.0
            cnt += 1
        if e >= peak:
            peak = e
            peak_i = t
        else:
            d = e / peak - 1.0 if peak > 0 else -1.0
            if d < worst:
                worst = d
            if t - peak_i > longest:
                longest = t - peak_i
        if pos[t] != 0.0:
            exposed += 1
    mean = m / cnt if cnt > 0 else 0.0
    # pass 2: dispersion around the mean (two passes for accuracy)
    ss = 0.0
    dss = 0.0
    for t in range(1, n):
        if equity[t - 1] > 0:
            r = equity[t] / equity[t - 1] - 1.0
            ss += (r - mean) * (r - mean)
            if r < 0:
                dss += r * r
    sd = math.sqrt(ss / (cnt - 1)) if cnt > 1 else 0.0
    dd = math.sqrt(dss / cnt) if cnt > 0 else 0.0
    ann = math.sqrt(periods_per_year) if periods_per_year > 0 else 0.0
    out[2] = sd * ann * 100.0
    out[3] = mean / sd * ann if sd > 0 else 0.0
    if dd > 0:
        out[4] = mean / dd * ann
    else:
        out[4] = np.inf if mean > 0 else 0.0
    out[5] = worst * 100.0
    out[6] = longest
    nt = stats[0]
    out[7] = stats[1] / nt * 100.0 if nt > 0 else 0.0
    if stats[3] > 0:
        out[8] = stats[2] / stats[3]
    else:
        out[8] = np.inf if stats[2] > 0 else 0.0
    out[9] = stats[4] / nt * 100.0 if nt > 0 else 0.0
    out[10] = stats[5] * 100.0 if nt > 0 else 0.0
    out[11] = stats[6] * 100.0 if nt > 0 else 0.0
    out[12] = exposed / n * 100.0
    out[13] = nt
    out[14] = final
    out[15] = (close[n - 1] / close[0] - 1.0) * 100.0
    out[16] = stats[7] / nt if nt > 0 else 0.0


# --------------------------------------------------------------------------------------
# Batch: many parameter sets on one dataset, in parallel
# --------------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def run_batch_nb(strategy, bank, rows, vals, open_, high, low, close, volume, allow_short,
                 sl_frac, tp_frac, size_frac, cash0, commission, whole_units,
                 periods_per_year, out):
    """Evaluate ``rows.shape[0]`` parameter sets; metrics go to ``out[j, :]``.

    ``sl_frac``, ``tp_frac`` and ``size_frac`` are per parameter set (the genome evolves
    them). The same signal, simulation and metric code as a single backtest runs here.
    """
    m = rows.shape[0]
    n = close.shape[0]
    dummy = np.empty((0, N_TRADE_FIELDS))
    for j in prange(m):
        sig = np.empty(n, np.int8)
        eq = np.empty(n)
        pos = np.empty(n)
        stats = np.zeros(8)
        signals_nb(strategy, bank, rows[j], vals[j], close, volume, sig)
        simulate_nb(open_, high, low, close, sig, allow_short, sl_frac[j], tp_frac[j],
                    size_frac[j], cash0, commission, whole_units, eq, pos, stats, False, dummy)
        metrics_nb(eq, pos, stats, cash0, close, periods_per_year, out[j])
