"""The backtester's bar loop run a range of bars at a time, with its state carried in and out.

A paper book (:mod:`engine.paper`) processes one bar at a time, commits, and may stop and
resume in another process. :func:`run_bars` runs bars ``i0 .. i1-1`` of
:func:`engine.backtest.step.run_bars_nb` — the very loop every backtest runs, not a copy —
from a :class:`CarriedState` (cash, the ``(n_rows, N_POS_FIELDS)`` position state, whether
the account was wiped out) and hands back the state after ``i1-1``. Pending orders are the
signals of bar ``i0-1`` in ``signal``. Running ``[0, n)`` in one call or bar by bar gives the
same trades, bit for bit (tests/paper/test_resumable.py).

``entry_scale`` / ``entry_cap`` (one per row) are the risk manager's say over an entry's
budget: ``0`` vetoes it (its exit still runs), ``0.5`` halves it, a cap bounds its notional.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.backtest.enums import N_POS_FIELDS, N_STATS, new_trades
from engine.backtest.step import run_bars_nb


@dataclass
class CarriedState:
    """What a bar loop needs to go on: cash, positions (``P_*`` slots), wiped out or not."""

    cash: float
    pos: np.ndarray
    bankrupt: bool = False

    @classmethod
    def flat(cls, cash: float, n_rows: int) -> CarriedState:
        return cls(float(cash), np.zeros((n_rows, N_POS_FIELDS)), False)


@dataclass
class BarsOutput:
    """Trades closed in the range (TRADE_DTYPE records, bar indices absolute) and the
    equity / positions at each close of the range (``equity[i0:i1]``)."""

    trades: np.ndarray
    equity: np.ndarray
    positions: np.ndarray


def run_bars(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
             signal: np.ndarray, state: CarriedState, i0: int, i1: int, *,
             allow_short: bool, stop_loss: float, take_profit: float, size: float,
             max_positions: int, commission: float, whole_units: bool = True,
             entry_scale: np.ndarray | None = None, entry_cap: np.ndarray | None = None
             ) -> BarsOutput:
    """Run bars ``i0 .. i1-1`` of 2-D ``(n_rows, n_bars)`` float64 / int8 arrays from
    ``state`` (updated in place). Arrays must be C-contiguous and writable."""
    n_rows, n = close.shape
    if not 0 <= i0 <= i1 <= n:
        raise ValueError(f"bar range [{i0}, {i1}) is outside 0..{n}")
    scale = np.ones(n_rows) if entry_scale is None else np.ascontiguousarray(entry_scale,
                                                                              np.float64)
    cap = np.full(n_rows, np.inf) if entry_cap is None else np.ascontiguousarray(entry_cap,
                                                                              np.float64)
    equity = np.zeros(n)
    pos_out = np.zeros((n_rows, n))
    stats = np.zeros(N_STATS)
    trades = new_trades(2 * n_rows * max(1, i1 - i0) + 1)
    cash, n_tr, bankrupt = run_bars_nb(
        open_, high, low, close, signal, bool(allow_short), float(stop_loss),
        float(take_profit), float(size), int(max_positions), float(state.cash),
        float(commission), bool(whole_units), equity, pos_out, stats, True, trades,
        state.pos, int(i0), int(i1), 0, bool(state.bankrupt), scale, cap)
    state.cash = float(cash)
    state.bankrupt = bool(bankrupt)
    return BarsOutput(trades[:n_tr].copy(), equity[i0:i1].copy(), pos_out[:, i0:i1].copy())
