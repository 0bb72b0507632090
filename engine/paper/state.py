"""A sleeve's state during a replay, as the ledger holds it: its bars and signals
(:class:`SleeveData`), and its cash, positions, pending orders and closed trades' pnl
(:class:`SleeveRun`) — loaded at the start of a step (:func:`load_run`), kept in step with
the ledger bar by bar by :mod:`engine.paper.replay`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from sqlmodel import select

from engine.backtest.enums import (
    P_ENTRY_BAR,
    P_ENTRY_COMM,
    P_ENTRY_PRICE,
    P_SIZE,
    P_SL,
    P_TP,
)
from engine.backtest.resumable import CarriedState
from engine.paper.analyst import AnalystSource, Pending
from engine.paper.sources import Execution, execution_of, signals_for
from engine.paper.tables import PaperOrder, PaperPosition, PaperSleeve, PaperTrade


@dataclass
class SleeveData:
    """A sleeve's bars (aligned across its symbols) and its signals on them."""

    symbols: list[str]
    ts: np.ndarray  # datetime64[us]
    open: np.ndarray  # (n_rows, n_bars) float64
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    signals: np.ndarray  # (n_rows, n_bars) int8, zero before the sleeve's start
    index: dict[np.datetime64, int]
    execution: Execution


@dataclass
class SleeveRun:
    """A sleeve's state while a replay runs (mirrors its rows in the ledger)."""

    sleeve: PaperSleeve
    data: SleeveData
    state: CarriedState
    work: np.ndarray  # the signal array handed to the loop (pending orders at i-1)
    pending: np.ndarray  # the signals left at the last processed close
    pending_ids: dict[int, int] = field(default_factory=dict)  # row -> PaperOrder.id
    position_ids: dict[int, int] = field(default_factory=dict)  # row -> PaperPosition.id
    pnls: list[float] = field(default_factory=list)  # closed trades' pnl, in order
    last_i: int = -1
    analyst: AnalystSource | None = None  # an analyst sleeve's decision maker
    decided: Pending | None = None  # its decisions at the last close (pending orders)


def to_dt(t: np.datetime64) -> datetime:
    return t.astype("datetime64[us]").astype(datetime)


def load_sleeve_data(sleeve: PaperSleeve) -> SleeveData:
    """The sleeve's stored bars and signals (signals before its start set to 0)."""
    from engine.backtest.portfolio import align_frames
    from engine.backtest.runner import ignore_before
    from engine.market import load_dataset

    frames = {s: load_dataset(s) for s in sleeve.symbols}
    if len(frames) > 1:
        frames = align_frames(frames)
    first = next(iter(frames.values()))
    ts = first.get_column("timestamp").cast(pl.Datetime("us")).to_numpy()

    def stack(col: str) -> np.ndarray:
        return np.ascontiguousarray(np.stack(
            [frames[s].get_column(col).cast(pl.Float64).to_numpy() for s in sleeve.symbols]))

    if sleeve.kind == "analyst":  # decided bar by bar during the replay
        sig = np.zeros((len(sleeve.symbols), first.height), np.int8)
    else:
        sig = np.stack([ignore_before(frames[s], signals_for(sleeve.kind, sleeve.config,
                                                             frames[s]), sleeve.start)
                        for s in sleeve.symbols]).astype(np.int8)
    return SleeveData(list(sleeve.symbols), ts, stack("open"), stack("high"), stack("low"),
                      stack("close"), np.ascontiguousarray(sig),
                      {t: i for i, t in enumerate(ts)},
                      execution_of(sleeve.kind, sleeve.config, len(sleeve.symbols)))


def load_run(session: Any, sleeve: PaperSleeve, data: SleeveData,
              clock: datetime | None) -> SleeveRun:
    from engine.backtest.enums import N_POS_FIELDS

    n_rows = len(data.symbols)
    pos = np.zeros((n_rows, N_POS_FIELDS))
    run = SleeveRun(sleeve, data, CarriedState(sleeve.cash, pos, sleeve.bankrupt),
                    np.zeros_like(data.signals), np.zeros(n_rows, np.int8))
    row = {s: k for k, s in enumerate(data.symbols)}
    for p in session.exec(select(PaperPosition).where(PaperPosition.sleeve_id == sleeve.id)):
        k = row[p.symbol]
        pos[k, P_SIZE] = p.size
        pos[k, P_ENTRY_PRICE] = p.entry_price
        pos[k, P_ENTRY_BAR] = data.index[np.datetime64(p.entry_time, "us")]
        pos[k, P_ENTRY_COMM] = p.entry_comm
        pos[k, P_SL] = p.sl
        pos[k, P_TP] = p.tp
        run.position_ids[k] = p.id
    for o in session.exec(select(PaperOrder).where(PaperOrder.sleeve_id == sleeve.id,
                                                   PaperOrder.status == "pending")):
        run.pending[row[o.symbol]] = o.side
        run.pending_ids[row[o.symbol]] = o.id
    run.pnls = [t for t in session.exec(select(PaperTrade.pnl).where(
        PaperTrade.sleeve_id == sleeve.id).order_by(PaperTrade.id))]
    if clock is not None:
        run.last_i = int(np.searchsorted(data.ts, np.datetime64(clock, "us"), side="right")) - 1
    return run


__all__ = ["SleeveData", "SleeveRun", "load_run", "load_sleeve_data", "to_dt"]
