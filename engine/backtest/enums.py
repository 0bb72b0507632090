"""Named layouts of the compiled kernels' arrays (the model is vectorbt's ``portfolio/enums.py``).

The kernels take and return only NumPy arrays and scalars; this module gives every slot a
name so that no code reads ``row[5]`` or ``stats[3]``:

- :data:`TRADE_DTYPE`: the record dtype of one closed (or still open) trade;
- ``EXIT_*``: exit-reason codes stored in a trade's ``reason`` field (names in
  :data:`EXIT_REASONS`);
- ``ST_*``: running trade statistics (an ``N_STATS`` float array) the simulation updates and
  :func:`~engine.backtest.kernel.metrics_nb` reads;
- ``P_*``: per-symbol position state (a ``(n_symbols, N_POS_FIELDS)`` float array) of the
  shared bar step in :mod:`engine.backtest.step`;
- ``M_*``: the metric array of ``metrics_nb`` (names in :data:`KERNEL_METRICS`);
- strategy ids of :func:`~engine.backtest.kernel.signals_nb`.

numba freezes these values into the compiled (and on-disk cached) kernels, and its cache does
not notice a change made here: after editing a layout, delete the ``*.nbi``/``*.nbc`` files
under ``engine/backtest/__pycache__`` (or touch the kernel modules).
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------------------
# Trades
# --------------------------------------------------------------------------------------
EXIT_SIGNAL = 0
EXIT_STOP_LOSS = 1
EXIT_TAKE_PROFIT = 2
EXIT_END = 3
#: Name of each exit code, as the ``exit_reason`` column and ``backtest --json`` spell it.
EXIT_REASONS: tuple[str, ...] = ("signal", "stop_loss", "take_profit", "end")

#: One trade: bars are row indices of the (aligned) input arrays; ``symbol`` is the row of
#: the symbol in a portfolio's 2-D arrays (0 in a single backtest); ``return_frac`` is
#: pnl / entry notional; ``commission`` is both sides (entry only for an ``end`` trade).
TRADE_DTYPE = np.dtype(
    [
        ("symbol", np.int64),
        ("entry_bar", np.int64),
        ("exit_bar", np.int64),
        ("entry_price", np.float64),
        ("exit_price", np.float64),
        ("size", np.float64),
        ("pnl", np.float64),
        ("return_frac", np.float64),
        ("reason", np.int64),
        ("commission", np.float64),
    ],
    align=True,
)


def new_trades(n: int) -> np.ndarray:
    """An empty (uninitialised) trade-record array with room for ``n`` trades."""
    return np.empty(n, TRADE_DTYPE)


# --------------------------------------------------------------------------------------
# Running trade statistics
# --------------------------------------------------------------------------------------
ST_COUNT = 0  # trades
ST_WINS = 1  # trades with pnl > 0
ST_GROSS_PROFIT = 2  # sum of positive pnl
ST_GROSS_LOSS = 3  # minus the sum of negative pnl (>= 0)
ST_SUM_RETURN = 4  # sum of return_frac
ST_BEST_RETURN = 5
ST_WORST_RETURN = 6
ST_BARS_HELD = 7  # sum of exit_bar - entry_bar
N_STATS = 8

# --------------------------------------------------------------------------------------
# Per-symbol position state of the bar step
# --------------------------------------------------------------------------------------
P_SIZE = 0  # units held, negative for a short, 0 when flat
P_ENTRY_PRICE = 1
P_ENTRY_BAR = 2  # a bar index stored as float (exact below 2**53)
P_ENTRY_COMM = 3  # commission paid on entry
P_SL = 4  # stop-loss price
P_TP = 5  # take-profit price
N_POS_FIELDS = 6

# --------------------------------------------------------------------------------------
# Metric slots of metrics_nb
# --------------------------------------------------------------------------------------
M_TOTAL_RETURN_PCT = 0
M_CAGR_PCT = 1
M_VOLATILITY_ANN_PCT = 2
M_SHARPE = 3
M_SORTINO = 4
M_MAX_DRAWDOWN_PCT = 5
M_MAX_DRAWDOWN_DURATION_BARS = 6
M_WIN_RATE_PCT = 7
M_PROFIT_FACTOR = 8
M_AVG_TRADE_PCT = 9
M_BEST_TRADE_PCT = 10
M_WORST_TRADE_PCT = 11
M_EXPOSURE_PCT = 12
M_N_TRADES = 13
M_FINAL_EQUITY = 14
M_BUY_HOLD_RETURN_PCT = 15
M_AVG_TRADE_BARS = 16
N_KERNEL_METRICS = 17

#: Name of each metric slot, in slot order (``KERNEL_METRICS[M_SHARPE] == "sharpe"``).
KERNEL_METRICS: tuple[str, ...] = (
    "total_return_pct",
    "cagr_pct",
    "volatility_ann_pct",
    "sharpe",
    "sortino",
    "max_drawdown_pct",
    "max_drawdown_duration_bars",
    "win_rate_pct",
    "profit_factor",
    "avg_trade_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "exposure_pct",
    "n_trades",
    "final_equity",
    "buy_hold_return_pct",
    "avg_trade_bars",
)

# --------------------------------------------------------------------------------------
# Strategy ids of signals_nb
# --------------------------------------------------------------------------------------
SMA_CROSS = 0
RSI = 1
MACD = 2
BOLLINGER = 3
GENOME = 4
