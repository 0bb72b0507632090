"""The paper desk's ledger: books, sleeves, orders, fills, positions, trades, equity, risk
events, and the analyst sleeves' decisions (each linked to its ``ai_decisions`` row and to the
order it caused).

One book owns everything below it (``book_id`` on every row). Times are bar timestamps (naive
UTC, as the market data); ``created_at`` is when the row was written. A processed bar writes
its rows and moves the book's ``clock`` in one transaction, so the ledger is always the one
of a whole number of bars.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.tables import utcnow


class PaperBook(SQLModel, table=True):
    """A paper account: starting cash, commission, the book-wide risk limits and its clock."""

    __tablename__ = "paper_books"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=64)
    cash0: float
    cash: float  # cash not allocated to any sleeve
    commission: float = 0.0
    fractional: bool = False
    start: datetime | None = Field(default=None, sa_type=DateTime)  # first bar it trades
    clock: datetime | None = Field(default=None, sa_type=DateTime)  # last bar processed
    max_positions: int = 10
    max_position_size: float = 0.1
    daily_loss_limit_usd: float | None = None  # None: off (BookSettings holds the default)
    correlation_limit: float | None = None  # None: off
    correlation_window: int = 60
    correlation_action: str = Field(default="refuse", max_length=16)  # refuse | halve
    breaker: bool = True
    breaker_trades: int = 20
    breaker_hit_rate: float = 0.35
    breaker_drawdown: float = 0.2
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PaperSleeve(SQLModel, table=True):
    """One source of signals trading a list of symbols inside a book, with its own cash."""

    __tablename__ = "paper_sleeves"
    __table_args__ = (UniqueConstraint("book_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="paper_books.id", index=True)
    name: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # strategy | model | analyst | ensemble
    symbols: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    allocation: float = 1.0
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    cash0: float = 0.0
    cash: float = 0.0
    start: datetime | None = Field(default=None, sa_type=DateTime)  # signals before: ignored
    status: str = Field(default="active", max_length=16)  # active | paused
    paused_reason: str = ""
    bankrupt: bool = False
    peak_equity: float = 0.0
    equity: float = 0.0
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PaperOrder(SQLModel, table=True):
    """A signal at a bar's close: pending until the next open fills, vetoes or drops it."""

    __tablename__ = "paper_orders"

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="paper_books.id", index=True)
    sleeve_id: int = Field(foreign_key="paper_sleeves.id", index=True)
    symbol: str = Field(max_length=64)
    side: int  # +1 buy / -1 sell (the signal)
    signal_time: datetime = Field(sa_type=DateTime)
    status: str = Field(default="pending", max_length=16)  # pending|filled|vetoed|resized|dropped
    fill_time: datetime | None = Field(default=None, sa_type=DateTime)
    detail: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PaperFill(SQLModel, table=True):
    """One execution: an entry, or an exit (signal, stop-loss, take-profit)."""

    __tablename__ = "paper_fills"

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="paper_books.id", index=True)
    sleeve_id: int = Field(foreign_key="paper_sleeves.id", index=True)
    symbol: str = Field(max_length=64)
    time: datetime = Field(sa_type=DateTime)
    price: float
    size: float  # signed units traded (+ buys, - sells)
    commission: float
    reason: str = Field(max_length=16)  # entry | signal | stop_loss | take_profit
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PaperPosition(SQLModel, table=True):
    """An open position of a sleeve in a symbol (the kernel's position state)."""

    __tablename__ = "paper_positions"
    __table_args__ = (UniqueConstraint("sleeve_id", "symbol"),)

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="paper_books.id", index=True)
    sleeve_id: int = Field(foreign_key="paper_sleeves.id", index=True)
    symbol: str = Field(max_length=64)
    size: float
    entry_time: datetime = Field(sa_type=DateTime)
    entry_price: float
    entry_comm: float
    sl: float
    tp: float
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PaperTrade(SQLModel, table=True):
    """A closed trade, with the backtest's trade keys."""

    __tablename__ = "paper_trades"

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="paper_books.id", index=True)
    sleeve_id: int = Field(foreign_key="paper_sleeves.id", index=True)
    symbol: str = Field(max_length=64)
    entry_time: datetime = Field(sa_type=DateTime)
    exit_time: datetime = Field(sa_type=DateTime)
    entry_price: float
    exit_price: float
    size: float
    pnl: float
    return_pct: float
    exit_reason: str = Field(max_length=16)
    commission: float
    bars_held: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PaperEquity(SQLModel, table=True):
    """Equity marked at a bar's close: a sleeve's (``sleeve_id``) or the book's (``None``)."""

    __tablename__ = "paper_equity"

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="paper_books.id", index=True)
    sleeve_id: int | None = Field(default=None, foreign_key="paper_sleeves.id")
    time: datetime = Field(sa_type=DateTime, index=True)
    cash: float
    equity: float
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PaperRiskEvent(SQLModel, table=True):
    """A veto, a resize or a circuit-breaker pause, with the rule and its numbers."""

    __tablename__ = "paper_risk_events"

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="paper_books.id", index=True)
    sleeve_id: int | None = Field(default=None, foreign_key="paper_sleeves.id")
    symbol: str = Field(default="", max_length=64)
    time: datetime = Field(sa_type=DateTime)
    rule: str = Field(max_length=32)
    action: str = Field(default="refuse", max_length=16)  # refuse | resize | halve | pause
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class PaperDecision(SQLModel, table=True):
    """An analyst sleeve's decision at one bar's close for one symbol.

    ``decision_id`` is its ``ai_decisions`` row (``None`` when the analyst gave no decision:
    ``error`` says why); ``side`` / ``enter`` / the levels / ``size`` are what the sleeve
    trades from it; ``order_id`` the order it caused (``None``: nothing to trade). A bar
    processed again finds its decision here and never asks the analyst twice.
    """

    __tablename__ = "paper_decisions"
    __table_args__ = (UniqueConstraint("sleeve_id", "symbol", "as_of"),)

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="paper_books.id", index=True)
    sleeve_id: int = Field(foreign_key="paper_sleeves.id", index=True)
    symbol: str = Field(max_length=64)
    as_of: datetime = Field(sa_type=DateTime)  # the bar at whose close it was decided
    decision_id: str | None = Field(default=None, max_length=36, index=True)
    decision: str = Field(default="", max_length=8)  # BUY | SELL | HOLD ("" when none)
    side: int = 0  # the signal traded: +1 buy, -1 sell, 0 nothing
    enter: bool = False  # the analyst's risk check (the book's positions) allows an entry
    stop_loss: float | None = None  # absolute prices from the decision
    take_profit: float | None = None
    size_suggested: float = 0.0
    size: float = 0.0  # fraction of the sleeve's equity: min(suggested, max_position_size)
    cost_usd: float = 0.0
    error: str = ""
    order_id: int | None = Field(default=None, foreign_key="paper_orders.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
