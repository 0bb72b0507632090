"""Reading a book's ledger: its status, trades and risk events (the ``paper`` JSON keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import select

from engine.paper.book import get_book, get_sleeve, sleeves_of
from engine.paper.tables import PaperPosition, PaperRiskEvent, PaperSleeve, PaperTrade


def _iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%S") if t is not None else None


def _last_close(symbol: str, clock: datetime | None) -> tuple[datetime | None, float | None]:
    """The symbol's last close at or before ``clock`` (and its time)."""
    import polars as pl

    from engine.market import load_dataset

    if clock is None:
        return None, None
    df = load_dataset(symbol, end=clock)
    if df.height == 0:
        return None, None
    row = df.select(pl.col("timestamp").last(), pl.col("close").last()).row(0)
    return row[0], float(row[1])


def open_positions(book_name: str) -> list[dict[str, Any]]:
    """Open positions with their unrealised P&L at the book's clock (exit commission not
    charged, as a backtest marks them)."""
    from engine.db import read_scope

    with read_scope() as s:
        book = get_book(book_name, s)
        names = {sl.id: sl.name for sl in sleeves_of(book, s)}
        rows = list(s.exec(select(PaperPosition).where(PaperPosition.book_id == book.id)
                           .order_by(PaperPosition.sleeve_id, PaperPosition.id)))
    out = []
    for p in rows:
        _, px = _last_close(p.symbol, book.clock)
        upnl = p.size * (px - p.entry_price) - p.entry_comm if px is not None else None
        out.append({"sleeve": names[p.sleeve_id], "symbol": p.symbol, "size": p.size,
                    "entry_time": _iso(p.entry_time), "entry_price": p.entry_price,
                    "unrealised_pnl": upnl, "last_price": px})
    return out


def book_trades(book_name: str, sleeve: str | None = None, *, include_open: bool = True
                ) -> list[dict[str, Any]]:
    """Closed trades (the backtest's keys plus ``sleeve`` and ``symbol``), then open
    positions as ``end`` trades marked at the book's clock, as a backtest lists them."""
    from engine.db import read_scope

    with read_scope() as s:
        book = get_book(book_name, s)
        sleeves = {sl.id: sl for sl in sleeves_of(book, s)}
        q = select(PaperTrade).where(PaperTrade.book_id == book.id)
        if sleeve is not None:
            q = q.where(PaperTrade.sleeve_id == get_sleeve(book, sleeve, s).id)
        trades = list(s.exec(q.order_by(PaperTrade.id)))
        pq = select(PaperPosition).where(PaperPosition.book_id == book.id)
        if sleeve is not None:
            pq = pq.where(PaperPosition.sleeve_id == get_sleeve(book, sleeve, s).id)
        positions = list(s.exec(pq.order_by(PaperPosition.id))) if include_open else []
    out = [{"sleeve": sleeves[t.sleeve_id].name, "symbol": t.symbol,
            "entry_time": _iso(t.entry_time), "exit_time": _iso(t.exit_time),
            "entry_price": t.entry_price, "exit_price": t.exit_price, "size": t.size,
            "pnl": t.pnl, "return_pct": t.return_pct, "exit_reason": t.exit_reason,
            "commission": t.commission, "bars_held": t.bars_held} for t in trades]
    for p in positions:
        when, px = _last_close(p.symbol, book.clock)
        if px is None:
            continue
        pnl = p.size * (px - p.entry_price) - p.entry_comm
        out.append({"sleeve": sleeves[p.sleeve_id].name, "symbol": p.symbol,
                    "entry_time": _iso(p.entry_time), "exit_time": _iso(when),
                    "entry_price": p.entry_price, "exit_price": px, "size": p.size,
                    "pnl": pnl, "return_pct": pnl / (abs(p.size) * p.entry_price) * 100.0,
                    "exit_reason": "end", "commission": p.entry_comm,
                    "bars_held": _bars_between(p.symbol, p.entry_time, when)})
    return out


def _bars_between(symbol: str, a: datetime, b: datetime | None) -> int:
    from engine.market import load_dataset

    ts = load_dataset(symbol, end=b).get_column("timestamp").to_numpy()
    return int(np.count_nonzero(ts > np.datetime64(a, "us")))


def book_events(book_name: str) -> list[dict[str, Any]]:
    """Risk events: ``[{"time", "sleeve", "symbol", "rule", "detail"}]`` (plus ``action``)."""
    from engine.db import read_scope

    with read_scope() as s:
        book = get_book(book_name, s)
        names = {sl.id: sl.name for sl in sleeves_of(book, s)}
        rows = list(s.exec(select(PaperRiskEvent).where(PaperRiskEvent.book_id == book.id)
                           .order_by(PaperRiskEvent.id)))
    return [{"time": _iso(e.time), "sleeve": names.get(e.sleeve_id), "symbol": e.symbol,
             "rule": e.rule, "action": e.action, "detail": e.detail} for e in rows]


def book_status(book_name: str) -> dict[str, Any]:
    """The ``paper status`` document (see docs/paper.md)."""
    from engine.db import read_scope

    with read_scope() as s:
        book = get_book(book_name, s)
        sleeves: list[PaperSleeve] = sleeves_of(book, s)
        counts = {sl.id: len(list(s.exec(select(PaperTrade.id).where(
            PaperTrade.sleeve_id == sl.id)))) for sl in sleeves}
    positions = open_positions(book_name)
    cash = book.cash + sum(sl.cash for sl in sleeves)
    equity = book.cash + sum(sl.equity for sl in sleeves)
    return {
        "book": book.name, "clock": _iso(book.clock), "start": _iso(book.start),
        "cash": cash, "equity": equity, "cash0": book.cash0,
        "limits": {"max_positions": book.max_positions,
                   "max_position_size": book.max_position_size,
                   "daily_loss_limit_usd": book.daily_loss_limit_usd,
                   "correlation_limit": book.correlation_limit,
                   "correlation_window": book.correlation_window,
                   "correlation_action": book.correlation_action, "breaker": book.breaker},
        "sleeves": [{"name": sl.name, "kind": sl.kind, "status": sl.status,
                     "symbols": list(sl.symbols), "allocation": sl.allocation,
                     "equity": sl.equity, "pnl": sl.equity - sl.cash0,
                     "n_trades": counts[sl.id], "paused_reason": sl.paused_reason or None}
                    for sl in sleeves],
        "positions": [{k: p[k] for k in ("sleeve", "symbol", "size", "entry_time",
                                         "entry_price", "unrealised_pnl")} for p in positions],
    }
