"""Compiled portfolio kernel: several symbols on aligned bars, one cash account.

Every bar runs the shared per-bar step of :mod:`engine.backtest.step` — the same fills,
stops, commission, liquidation and trade records as a single backtest, which is the
one-symbol case of the same loop. See :mod:`engine.backtest.portfolio` for the Python layer.
"""

from __future__ import annotations

from numba import njit

from engine.backtest import numba_setup  # noqa: F401  (threading layer and cache first)
from engine.backtest.step import simulate_bars_nb


@njit(cache=True, nogil=True)
def simulate_portfolio_nb(open_, high, low, close, signal, allow_short, sl_frac, tp_frac,
                          size_frac, max_positions, cash0, commission, whole_units, equity,
                          pos_out, stats, trades):
    """Several symbols (rows of the 2-D ``(n_symbols, n_bars)`` arrays), one cash account.

    ``pos_out`` (same shape) receives each symbol's position at every close, ``equity`` the
    account's equity marked at every close, ``stats`` (``N_STATS`` zeros) the running trade
    statistics, ``trades`` the :data:`~engine.backtest.enums.TRADE_DTYPE` records (it must
    hold ``count_nonzero(signal) + n_symbols`` rows). Returns the number of trades.
    """
    return simulate_bars_nb(open_, high, low, close, signal, allow_short, sl_frac,
                                tp_frac, size_frac, max_positions, cash0, commission,
                                whole_units, equity, pos_out, stats, True, trades)
