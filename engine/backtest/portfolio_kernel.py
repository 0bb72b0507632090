"""Compiled portfolio kernel: several symbols on aligned bars, one cash account.

The per-symbol rules are those of :func:`engine.backtest.kernel.simulate_nb` (same fills,
stops, commission and trade records through :func:`~engine.backtest.kernel._record_nb`);
only the account is shared. See :mod:`engine.backtest.portfolio` for the Python layer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.backtest.kernel import (
    EXIT_END,
    EXIT_SIGNAL,
    EXIT_STOP_LOSS,
    EXIT_TAKE_PROFIT,
    _record_nb,
    _units_nb,
)


@njit(cache=True)
def simulate_portfolio_nb(open_, high, low, close, signal, allow_short, sl_frac, tp_frac,
                          size_frac, max_positions, cash0, commission, whole_units, equity,
                          npos_out, stats, trades):
    """Several symbols (rows of the 2-D arrays) on aligned bars, one cash account.

    Same per-symbol rules as :func:`simulate_nb`. At each open: pending exits fill first,
    then pending entries in symbol order while fewer than ``max_positions`` are open, each
    sized ``size_frac`` of the equity marked at that open (a long never spends more cash
    than there is). ``trades`` must hold ``count_nonzero(signal) + n_symbols`` rows. Returns
    the number of trades; ``npos_out`` gets the number of open positions at each close.
    """
    s_n, n = close.shape
    cash = cash0
    size = np.zeros(s_n)
    entry_price = np.zeros(s_n)
    entry_bar = np.full(s_n, -1, np.int64)
    entry_comm = np.zeros(s_n)
    sl = np.zeros(s_n)
    tp = np.zeros(s_n)
    n_tr = 0
    bankrupt = False
    for i in range(n):
        if bankrupt:
            equity[i] = 0.0
            npos_out[i] = 0.0
            continue
        if i > 0:
            # 1. pending exits at the open
            for k in range(s_n):
                sig = signal[k, i - 1]
                if (sig < 0 and size[k] > 0.0) or (sig > 0 and size[k] < 0.0):
                    px = open_[k, i]
                    comm = abs(size[k]) * px * commission
                    cash += size[k] * px - comm
                    pnl = size[k] * (px - entry_price[k]) - entry_comm[k] - comm
                    n_tr = _record_nb(True, trades, n_tr, stats, entry_bar[k], i,
                                              entry_price[k], px, size[k], pnl, EXIT_SIGNAL,
                                              entry_comm[k] + comm, k)
                    size[k] = 0.0
            # 2. pending entries, in symbol order, while slots are free
            n_open = 0
            for k in range(s_n):
                if size[k] != 0.0:
                    n_open += 1
            for k in range(s_n):
                sig = signal[k, i - 1]
                if n_open >= max_positions:
                    break
                if size[k] != 0.0 or sig == 0 or (sig < 0 and not allow_short):
                    continue
                px = open_[k, i]
                eq_open = cash
                for q in range(s_n):
                    eq_open += size[q] * open_[q, i]
                budget = size_frac * eq_open
                if sig > 0 and budget > cash:
                    budget = cash
                units = _units_nb(budget, px, commission, whole_units)
                if units <= 0.0:
                    continue
                size[k] = units if sig > 0 else -units
                entry_comm[k] = units * px * commission
                cash -= size[k] * px + entry_comm[k]
                entry_price[k] = px
                entry_bar[k] = i
                if sig > 0:
                    sl[k] = px * (1.0 - sl_frac)
                    tp[k] = px * (1.0 + tp_frac)
                else:
                    sl[k] = px * (1.0 + sl_frac)
                    tp[k] = px * (1.0 - tp_frac)
                n_open += 1
            # 3. stops, from the bar after entry; stop-loss wins
            for k in range(s_n):
                if size[k] == 0.0 or entry_bar[k] >= i:
                    continue
                hit = -1
                fill = 0.0
                if size[k] > 0.0:
                    if sl_frac > 0.0 and low[k, i] <= sl[k]:
                        hit = EXIT_STOP_LOSS
                        fill = min(open_[k, i], sl[k])
                    elif tp_frac > 0.0 and high[k, i] >= tp[k]:
                        hit = EXIT_TAKE_PROFIT
                        fill = max(open_[k, i], tp[k])
                else:
                    if sl_frac > 0.0 and high[k, i] >= sl[k]:
                        hit = EXIT_STOP_LOSS
                        fill = max(open_[k, i], sl[k])
                    elif tp_frac > 0.0 and low[k, i] <= tp[k]:
                        hit = EXIT_TAKE_PROFIT
                        fill = min(open_[k, i], tp[k])
                if hit >= 0:
                    comm = abs(size[k]) * fill * commission
                    cash += size[k] * fill - comm
                    pnl = size[k] * (fill - entry_price[k]) - entry_comm[k] - comm
                    n_tr = _record_nb(True, trades, n_tr, stats, entry_bar[k], i,
                                              entry_price[k], fill, size[k], pnl, hit,
                                              entry_comm[k] + comm, k)
                    size[k] = 0.0
        eq = cash
        cnt = 0
        for k in range(s_n):
            eq += size[k] * close[k, i]
            if size[k] != 0.0:
                cnt += 1
        equity[i] = eq
        npos_out[i] = cnt
        if cnt > 0 and eq <= 0.0:  # wiped out: liquidate everything at the close and stop
            for k in range(s_n):
                if size[k] != 0.0:
                    px = close[k, i]
                    comm = abs(size[k]) * px * commission
                    pnl = size[k] * (px - entry_price[k]) - entry_comm[k] - comm
                    n_tr = _record_nb(True, trades, n_tr, stats, entry_bar[k], i,
                                      entry_price[k], px, size[k], pnl, EXIT_STOP_LOSS,
                                      entry_comm[k] + comm, k)
                    size[k] = 0.0
            equity[i] = 0.0
            npos_out[i] = 0.0
            bankrupt = True
    for k in range(s_n):
        if size[k] != 0.0:
            pnl = size[k] * (close[k, n - 1] - entry_price[k]) - entry_comm[k]
            n_tr = _record_nb(True, trades, n_tr, stats, entry_bar[k], n - 1,
                                      entry_price[k], close[k, n - 1], size[k], pnl, EXIT_END,
                                      entry_comm[k], k)
    return n_tr
