"""What a backtest takes and gives: execution settings, the result, and the trade table.

Shared by the single backtest (:mod:`engine.backtest.runner`) and the portfolio
(:mod:`engine.backtest.portfolio`): both turn the kernels' trade records
(:data:`~engine.backtest.enums.TRADE_DTYPE`) into the same ``trades`` frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from engine.backtest.enums import EXIT_REASONS
from engine.errors import ParameterError


@dataclass(frozen=True)
class BacktestSettings:
    """How trades are executed. ``None`` for stops/size means off / all-in.

    For the ``genome`` strategy, stop-loss, take-profit and size default to its genes;
    a value given here overrides the gene.
    """

    cash: float = 10_000.0
    commission: float = 0.0
    stop_loss: float | None = None
    take_profit: float | None = None
    size: float | None = None
    allow_short: bool = False
    fractional: bool = False
    #: Signals at bars before this time are ignored (indicators still use every bar): the
    #: backtest a paper book started then must equal. ``None``: trade from the first bar.
    trade_start: datetime | None = None
    #: ``False`` switches the genome's ``stop_loss``, ``take_profit`` and ``position_size``
    #: genes off (no stops, all-in unless the fields above say otherwise): the genome's
    #: signals traded like any rule's, as a peer comparison without stops needs.
    trade_genes: bool = True

    def __post_init__(self) -> None:
        if not (np.isfinite(self.cash) and self.cash > 0):
            raise ParameterError(f"cash must be a positive amount, got {self.cash!r}")
        if not 0 <= self.commission < 0.1:
            raise ParameterError(
                f"commission is a fraction of traded value in [0, 0.1), got {self.commission!r}"
                " (0.001 means 0.1 %)"
            )
        for name in ("stop_loss", "take_profit"):
            v = getattr(self, name)
            if v is not None and not 0 < v < 1:
                raise ParameterError(
                    f"{name} is a fraction of the fill price in (0, 1), got {v!r} "
                    "(0.05 means 5 %)"
                )
        if self.trade_start is not None and not isinstance(self.trade_start, datetime):
            try:  # a date or an ISO text: the start of that day
                value = datetime.fromisoformat(str(self.trade_start))
            except ValueError:
                raise ParameterError(f"trade_start must be a date or date-time, got "
                                     f"{self.trade_start!r} (e.g. 2020-01-01)") from None
            object.__setattr__(self, "trade_start", value)
        if self.size is not None and not 0 < self.size <= 1:
            raise ParameterError(
                f"size is a fraction of equity in (0, 1], got {self.size!r} (0.1 means 10 %)"
            )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["trade_start"] is None:  # unchanged documents for backtests without it
            del d["trade_start"]
        else:
            d["trade_start"] = d["trade_start"].isoformat()
        if d["trade_genes"]:  # likewise: the key appears only when the genes are off
            del d["trade_genes"]
        return d


@dataclass
class BacktestResult:
    """Everything one backtest produced."""

    strategy: str
    params: dict[str, Any]
    settings: BacktestSettings
    metrics: dict[str, float | int]
    trades: pl.DataFrame
    equity: pl.DataFrame  # timestamp, close, equity, drawdown_pct, position, buy_hold_equity
    signals: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``backtest --json`` document (ISO-8601 times)."""
        trades = self.trades.with_columns(
            pl.col("entry_time").dt.to_string("%Y-%m-%dT%H:%M:%S"),
            pl.col("exit_time").dt.to_string("%Y-%m-%dT%H:%M:%S"),
        ).to_dicts()
        return {
            "strategy": self.strategy,
            "params": self.params,
            "settings": self.settings.to_dict(),
            "metrics": self.metrics,
            "trades": trades,
        }


TRADE_SCHEMA = {
    "entry_time": pl.Datetime("us"),
    "exit_time": pl.Datetime("us"),
    "entry_price": pl.Float64,
    "exit_price": pl.Float64,
    "size": pl.Float64,
    "pnl": pl.Float64,
    "return_pct": pl.Float64,
    "exit_reason": pl.Utf8,
    "commission": pl.Float64,
    "bars_held": pl.Int64,
}


def trades_frame(records: np.ndarray, ts: pl.Series,
                 symbols: Sequence[str] | None = None) -> pl.DataFrame:
    """Kernel trade records as a frame; with ``symbols``, a leading ``symbol`` column."""
    schema = ({"symbol": pl.Utf8} | TRADE_SCHEMA) if symbols else TRADE_SCHEMA
    if records.shape[0] == 0:
        return pl.DataFrame(schema=schema)
    extra = ({"symbol": [symbols[k] for k in records["symbol"].tolist()]} if symbols else {})
    entry = records["entry_bar"]
    exit_ = records["exit_bar"]
    return pl.DataFrame(
        {
            **extra,
            "entry_time": ts.gather(entry),
            "exit_time": ts.gather(exit_),
            "entry_price": records["entry_price"],
            "exit_price": records["exit_price"],
            "size": records["size"],
            "pnl": records["pnl"],
            "return_pct": records["return_frac"] * 100.0,
            "exit_reason": [EXIT_REASONS[r] for r in records["reason"].tolist()],
            "commission": records["commission"],
            "bars_held": exit_ - entry,
        },
        schema=schema,
    )


def equity_frame(ts: pl.Series, close: np.ndarray, equity: np.ndarray, position: np.ndarray,
                 buy_hold_equity: np.ndarray) -> pl.DataFrame:
    """The per-bar frame of a result: equity marked at every close and its drawdown."""
    peak = np.maximum.accumulate(equity)
    return pl.DataFrame({
        "timestamp": ts,
        "close": close,
        "equity": equity,
        "drawdown_pct": np.where(peak > 0,
                                 (equity / np.where(peak > 0, peak, 1.0) - 1.0) * 100.0, -100.0),
        "position": position,
        "buy_hold_equity": buy_hold_equity,
    })
