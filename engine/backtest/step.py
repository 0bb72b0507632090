"""The one compiled per-bar step of every backtest (ARCHITECTURE.md's execution semantics).

The step is written once, as the body of one bar loop (:func:`_compile_bar_loop`), and both
kernels run that loop: the single backtest (:func:`engine.backtest.kernel.simulate_nb`, and
through it the batch evaluator) as the one-symbol case, the portfolio
(:func:`engine.backtest.portfolio_kernel.simulate_portfolio_nb`) with a row per symbol and
one cash account. So a one-symbol portfolio *is* a single backtest, fill for fill. numba
compiles the loop twice — for exactly one symbol (its per-symbol loops unroll away; a
separately called step function cost 10x in call overhead, and a run-time symbol count 2x,
on a million bars) and for any number — from the same source.

Inputs are 2-D ``(n_symbols, n_bars)`` arrays; the per-symbol position state is a
``(n_symbols, N_POS_FIELDS)`` float array named by the ``P_*`` slots of
:mod:`engine.backtest.enums`; trades are :data:`~engine.backtest.enums.TRADE_DTYPE` records.
Signals (``int8``): ``+1`` wants long, ``-1`` wants out of a long (or short, when shorting is
allowed), ``0`` nothing; the signal at the close of bar ``i-1`` is the pending market order
of bar ``i``.

Bar ``i``, in this order (symbols always in row order, which is what makes it
deterministic):

1. pending orders fill at the open of bar ``i``:
   a. exits — every position whose symbol signalled the opposite direction closes at the
      open (exit reason ``signal``);
   b. entries — every flat symbol with a ``+1`` signal (``-1`` when shorting is allowed)
      opens at the open while fewer than ``max_positions`` positions are open. An exit
      followed by an entry in the same symbol is the reversal of rule 7. A symbol that
      cannot afford one unit leaves the slot to the next; a signal that finds no free slot
      is dropped, not queued. Size: all-in (``size_frac <= 0``) spends the cash,
      ``floor(cash / (open·(1+c)))`` whole units (unfloored when fractional); otherwise
      ``size_frac`` of the equity marked at this open (cash + Σ size·open), a long never
      spending more than the cash. With one symbol and no position the
      equity at the open *is* the cash, so this is rule 4 exactly;
2. stop-loss / take-profit of positions entered before bar ``i`` (levels are fractions of
   the fill price; a long's stop fills at min(open, sl), its target at max(open, tp),
   mirrored for a short; stop-loss wins when both could trigger);
3. mark to market at the close: equity = cash + Σ size·close;
4. equity ≤ 0 with a position open (a short that ran away): every position is liquidated at
   the close (reported as ``stop_loss``) and the account stops at 0, as backtesting.py does.

After the last bar :func:`close_at_end_nb` lists the positions still open (exit reason
``end``, last close, no exit commission). Trades are recorded in the order they close (by
bar; within a bar signal exits, then stops, then a liquidation, each in symbol order; the
``end`` trades last). Nothing is allocated inside the bar loop (the position state is
allocated once before it), so the loop stays free of allocation and reference counting; the
helpers with array arguments run only when a trade opens or closes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engine.backtest import numba_setup  # noqa: F401  (threading layer and cache first)
from engine.backtest.enums import (
    EXIT_END,
    EXIT_SIGNAL,
    EXIT_STOP_LOSS,
    EXIT_TAKE_PROFIT,
    N_POS_FIELDS,
    P_ENTRY_BAR,
    P_ENTRY_COMM,
    P_ENTRY_PRICE,
    P_SIZE,
    P_SL,
    P_TP,
    ST_BARS_HELD,
    ST_BEST_RETURN,
    ST_COUNT,
    ST_GROSS_LOSS,
    ST_GROSS_PROFIT,
    ST_SUM_RETURN,
    ST_WINS,
    ST_WORST_RETURN,
)


@njit(cache=True)
def units_nb(budget, price, commission, whole_units):
    """Units ``budget`` buys at ``price`` with commission (floored for whole units), >= 0."""
    u = budget / (price * (1.0 + commission))
    if whole_units:
        u = math.floor(u)
    return u if u > 0.0 else 0.0


@njit(cache=True)
def record_trade_nb(record, trades, n_tr, stats, sym, entry_bar, exit_bar, entry_price,
                    exit_price, size, pnl, reason, comm):
    """Add one trade to the running ``stats`` (and to ``trades`` when ``record``)."""
    ret = pnl / (abs(size) * entry_price)
    stats[ST_COUNT] += 1.0
    if pnl > 0.0:
        stats[ST_WINS] += 1.0
        stats[ST_GROSS_PROFIT] += pnl
    elif pnl < 0.0:
        stats[ST_GROSS_LOSS] -= pnl
    stats[ST_SUM_RETURN] += ret
    if stats[ST_COUNT] == 1.0:
        stats[ST_BEST_RETURN] = ret
        stats[ST_WORST_RETURN] = ret
    else:
        stats[ST_BEST_RETURN] = max(stats[ST_BEST_RETURN], ret)
        stats[ST_WORST_RETURN] = min(stats[ST_WORST_RETURN], ret)
    stats[ST_BARS_HELD] += exit_bar - entry_bar
    if record:
        t = trades[n_tr]
        t["symbol"] = sym
        t["entry_bar"] = entry_bar
        t["exit_bar"] = exit_bar
        t["entry_price"] = entry_price
        t["exit_price"] = exit_price
        t["size"] = size
        t["pnl"] = pnl
        t["return_frac"] = ret
        t["reason"] = reason
        t["commission"] = comm
    return n_tr + 1


@njit(cache=True)
def close_position_nb(pos, k, bar, price, reason, commission, cash, record, trades, n_tr,
                      stats):
    """Close symbol ``k``'s position at ``price``; returns (cash, n_tr)."""
    size = pos[k, P_SIZE]
    entry_price = pos[k, P_ENTRY_PRICE]
    entry_comm = pos[k, P_ENTRY_COMM]
    comm = abs(size) * price * commission
    cash += size * price - comm
    pnl = size * (price - entry_price) - entry_comm - comm
    n_tr = record_trade_nb(record, trades, n_tr, stats, k, int(pos[k, P_ENTRY_BAR]), bar,
                           entry_price, price, size, pnl, reason, entry_comm + comm)
    pos[k, P_SIZE] = 0.0
    return cash, n_tr


@njit(cache=True)
def open_position_nb(pos, k, bar, sig, price, budget, sl_frac, tp_frac, commission,
                     whole_units, cash):
    """Open symbol ``k`` in the direction of ``sig`` for ``budget``; returns (cash, opened)."""
    units = units_nb(budget, price, commission, whole_units)
    if units <= 0.0:
        return cash, False
    size = units if sig > 0 else -units
    entry_comm = units * price * commission
    cash -= size * price + entry_comm
    pos[k, P_SIZE] = size
    pos[k, P_ENTRY_PRICE] = price
    pos[k, P_ENTRY_BAR] = bar
    pos[k, P_ENTRY_COMM] = entry_comm
    if size > 0.0:
        pos[k, P_SL] = price * (1.0 - sl_frac)
        pos[k, P_TP] = price * (1.0 + tp_frac)
    else:
        pos[k, P_SL] = price * (1.0 + sl_frac)
        pos[k, P_TP] = price * (1.0 - tp_frac)
    return cash, True


@njit(cache=True)
def stop_hit_nb(size, sl, tp, sl_frac, tp_frac, open_, high, low):
    """(exit reason, fill price) of a stop hit on this bar; reason -1 when none."""
    if size > 0.0:
        if sl_frac > 0.0 and low <= sl:
            return EXIT_STOP_LOSS, min(open_, sl)
        if tp_frac > 0.0 and high >= tp:
            return EXIT_TAKE_PROFIT, max(open_, tp)
    else:
        if sl_frac > 0.0 and high >= sl:
            return EXIT_STOP_LOSS, max(open_, sl)
        if tp_frac > 0.0 and low <= tp:
            return EXIT_TAKE_PROFIT, min(open_, tp)
    return -1, 0.0


@njit(cache=True)
def enter_nb(pos, k, i, sig, open_, cash, size_frac, sl_frac, tp_frac, commission,
             whole_units, scale, cap):
    """Size and open symbol ``k`` at bar ``i``'s open (rule 4); returns (cash, opened).

    ``scale`` and ``cap`` are a risk manager's resize of the budget (1 and +inf: none).
    """
    if size_frac <= 0.0:
        budget = cash
    else:
        eq_open = cash
        for q in range(pos.shape[0]):
            eq_open += pos[q, P_SIZE] * open_[q, i]
        budget = size_frac * eq_open
        if sig > 0 and budget > cash:
            budget = cash
    if scale != 1.0:
        budget = budget * scale
    if budget > cap:
        budget = cap
    return open_position_nb(pos, k, i, sig, open_[k, i], budget, sl_frac, tp_frac, commission,
                            whole_units, cash)


@njit(cache=True)
def close_at_end_nb(close, pos, record, trades, n_tr, stats):
    """List positions still open after the last bar (reason ``end``, no exit commission)."""
    s_n, n = close.shape
    for k in range(s_n):
        size = pos[k, P_SIZE]
        if size != 0.0:
            entry_price = pos[k, P_ENTRY_PRICE]
            entry_comm = pos[k, P_ENTRY_COMM]
            px = close[k, n - 1]
            pnl = size * (px - entry_price) - entry_comm
            n_tr = record_trade_nb(record, trades, n_tr, stats, k, int(pos[k, P_ENTRY_BAR]),
                                   n - 1, entry_price, px, size, pnl, EXIT_END, entry_comm)
    return n_tr


def _compile_bar_loop(n_symbols: int):
    """The bar loop, compiled for exactly ``n_symbols`` symbols (0: as many as the rows).

    Written once; numba compiles it twice. With the count a compile-time constant (the
    single backtest's 1) the per-symbol loops unroll away, which keeps a single backtest as
    fast as a dedicated one-symbol loop; the general version serves portfolios.
    """

    @njit(cache=True)
    def run_bars_nb(open_, high, low, close, signal, allow_short, sl_frac, tp_frac,
                    size_frac, max_positions, cash, commission, whole_units, equity,
                    pos_out, stats, record, trades, pos, i0, i1, n_tr, bankrupt,
                    entry_scale, entry_cap):
        """Bars ``i0 .. i1-1`` of the loop from a carried-in state; returns
        ``(cash, n_tr, bankrupt)``, ``pos`` (``(n_symbols, N_POS_FIELDS)``) updated in place.

        This is the per-bar step of the module docstring. A paper book runs it bar by bar
        with its state carried in and out (``engine.backtest.resumable``); a backtest runs it
        once over every bar from a flat start. ``entry_scale[k]`` multiplies and
        ``entry_cap[k]`` bounds the budget of an entry in row ``k`` (1 and +inf: unchanged,
        bit for bit; a scale of 0 vetoes the entry, the exit still runs).
        """
        s_n = n_symbols if n_symbols > 0 else close.shape[0]
        for i in range(i0, i1):
            if bankrupt:
                equity[i] = 0.0
                for k in range(s_n):
                    pos_out[k, i] = 0.0
                continue
            if i > 0:
                # 1a. pending exits at the open (and whether any entry is pending)
                n_open = 0
                entries = False
                for k in range(s_n):
                    sig = signal[k, i - 1]
                    if sig != 0:
                        size = pos[k, P_SIZE]
                        if (sig < 0 and size > 0.0) or (sig > 0 and size < 0.0):
                            cash, n_tr = close_position_nb(pos, k, i, open_[k, i], EXIT_SIGNAL,
                                                           commission, cash, record, trades, n_tr,
                                                           stats)
                            entries = True
                        elif size != 0.0:
                            n_open += 1
                        else:
                            entries = True
                    elif pos[k, P_SIZE] != 0.0:
                        n_open += 1
                # 1b. pending entries at the open, in symbol order, while slots are free
                if entries:
                    for k in range(s_n):
                        if n_open >= max_positions:
                            break
                        sig = signal[k, i - 1]
                        if sig == 0 or pos[k, P_SIZE] != 0.0 or (sig < 0 and not allow_short):
                            continue
                        cash, opened = enter_nb(pos, k, i, sig, open_, cash, size_frac, sl_frac,
                                                tp_frac, commission, whole_units,
                                                entry_scale[k], entry_cap[k])
                        if opened:
                            n_open += 1
            # 2. stop-loss / take-profit from the bar after entry (stop-loss wins), then
            # 3. mark to market at the close: equity = cash + sum of size * close
            marked = 0.0
            n_open = 0
            for k in range(s_n):
                size = pos[k, P_SIZE]
                if size != 0.0:
                    if pos[k, P_ENTRY_BAR] < i:
                        reason, fill = stop_hit_nb(size, pos[k, P_SL], pos[k, P_TP], sl_frac,
                                                   tp_frac, open_[k, i], high[k, i], low[k, i])
                        if reason >= 0:
                            cash, n_tr = close_position_nb(pos, k, i, fill, reason, commission,
                                                           cash, record, trades, n_tr, stats)
                            size = 0.0
                    if size != 0.0:
                        marked += size * close[k, i]
                        n_open += 1
                pos_out[k, i] = size
            eq = cash + marked
            equity[i] = eq
            # 4. wiped out: liquidate everything at the close and stop
            if n_open > 0 and eq <= 0.0:
                for k in range(s_n):
                    if pos[k, P_SIZE] != 0.0:
                        cash, n_tr = close_position_nb(pos, k, i, close[k, i], EXIT_STOP_LOSS,
                                                       commission, cash, record, trades, n_tr,
                                                       stats)
                    pos_out[k, i] = 0.0
                equity[i] = 0.0
                bankrupt = True
        return cash, n_tr, bankrupt

    @njit(cache=True)
    def simulate_bars_nb(open_, high, low, close, signal, allow_short, sl_frac, tp_frac,
                         size_frac, max_positions, cash0, commission, whole_units, equity,
                         pos_out, stats, record, trades):
        """Run every bar of ``n_symbols`` rows sharing one cash account; returns the trade count.

        The loop body is the per-bar step of the module docstring (:func:`run_bars_nb` from a
        flat start); positions go to ``pos_out[k, i]``, equity marked at each close to
        ``equity[i]``.
        """
        n = close.shape[1]
        s_n = n_symbols if n_symbols > 0 else close.shape[0]
        pos = np.zeros((s_n, N_POS_FIELDS))
        scale = np.ones(s_n)
        cap = np.full(s_n, np.inf)
        cash, n_tr, bankrupt = run_bars_nb(open_, high, low, close, signal, allow_short,
                                           sl_frac, tp_frac, size_frac, max_positions, cash0,
                                           commission, whole_units, equity, pos_out, stats,
                                           record, trades, pos, 0, n, 0, False, scale, cap)
        return close_at_end_nb(close, pos, record, trades, n_tr, stats)

    return simulate_bars_nb, run_bars_nb


#: The bar loop for any number of symbols (rows of the 2-D inputs): the portfolio kernel;
#: ``run_bars_nb`` is its body over a range of bars from a carried-in state (paper books).
simulate_bars_nb, run_bars_nb = _compile_bar_loop(0)
#: The same bar loop specialised for one symbol (1-row inputs): the single-backtest kernel.
simulate_one_bars_nb, _run_one_bars_nb = _compile_bar_loop(1)
