"""Books and sleeves: create a book, add sleeves, pause and resume them, look them up.

A book starts with ``cash``; each sleeve added takes ``allocation`` of the book's starting
cash into its own account (the allocations of a book sum to at most 1). A sleeve's signals
before its ``start`` — the book's ``--start``, or the bar after the book's clock when it was
added later — are ignored; every earlier bar is warm-up for its indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from engine.errors import ParameterError, StratLabError
from engine.paper.tables import PaperBook, PaperSleeve
from engine.risk import BookLimits

KINDS = ("strategy", "model", "analyst", "ensemble")
WEIGHTINGS = ("equal", "sharpe")


class BookNotFound(StratLabError):
    """No book (or sleeve) of that name."""


@dataclass(frozen=True)
class BookSettings:
    """What ``paper create`` takes; the limits default to the seed's (:class:`BookLimits`)."""

    cash: float = 100_000.0
    commission: float = 0.0
    start: datetime | None = None
    limits: BookLimits = BookLimits()
    breaker: bool = True
    breaker_trades: int = 20
    breaker_hit_rate: float = 0.35
    breaker_drawdown: float = 0.2
    fractional: bool = False

    def __post_init__(self) -> None:
        lim = self.limits
        if not self.cash > 0:
            raise ParameterError(f"cash must be positive, got {self.cash}; e.g. --cash 100000")
        if not 0 <= self.commission < 0.1:
            raise ParameterError(f"commission is a fraction in [0, 0.1), got {self.commission}"
                                 "; e.g. --commission 0.001")
        if lim.max_positions < 1:
            raise ParameterError(f"max positions must be >= 1, got {lim.max_positions}")
        if not 0 < lim.max_position_size <= 1:
            raise ParameterError(f"max position size is a fraction of book equity in (0, 1], "
                                 f"got {lim.max_position_size}; e.g. --max-position-size 0.1")
        if lim.daily_loss_limit_usd is not None and not lim.daily_loss_limit_usd > 0:
            raise ParameterError("the daily loss limit is a positive USD amount or none, got "
                                 f"{lim.daily_loss_limit_usd}; e.g. --daily-loss-limit 1000")
        if lim.correlation_limit is not None and not -1 <= lim.correlation_limit <= 1:
            raise ParameterError("the correlation limit is in [-1, 1] or none, got "
                                 f"{lim.correlation_limit}; e.g. --correlation-limit 0.8")
        if lim.correlation_action not in ("refuse", "halve"):
            raise ParameterError(f"correlation action is refuse or halve, got "
                                 f"{lim.correlation_action!r}")
        if lim.correlation_window < 2:
            raise ParameterError("the correlation window needs at least 2 bars")


def limits_of(book: PaperBook) -> BookLimits:
    return BookLimits(book.max_positions, book.max_position_size, book.daily_loss_limit_usd,
                      book.correlation_limit, book.correlation_window, book.correlation_action)


def create_book(name: str, settings: BookSettings | None = None) -> PaperBook:
    """A new, empty book named ``name`` (refused when one exists)."""
    from engine.db import session_scope

    s = settings or BookSettings()
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ParameterError("a book needs a name of 1 to 64 characters, e.g. `paper create demo`")
    lim = s.limits
    with session_scope() as session:
        if session.exec(select(PaperBook).where(PaperBook.name == name)).first():
            raise ParameterError(f"a book named {name!r} exists; pick another name or use it")
        book = PaperBook(
            name=name, cash0=float(s.cash), cash=float(s.cash), commission=float(s.commission),
            fractional=s.fractional, start=s.start, max_positions=lim.max_positions,
            max_position_size=lim.max_position_size,
            daily_loss_limit_usd=lim.daily_loss_limit_usd,
            correlation_limit=lim.correlation_limit,
            correlation_window=lim.correlation_window,
            correlation_action=lim.correlation_action, breaker=s.breaker,
            breaker_trades=s.breaker_trades, breaker_hit_rate=s.breaker_hit_rate,
            breaker_drawdown=s.breaker_drawdown)
        session.add(book)
        session.flush()
        session.refresh(book)
        return book


def get_book(name: str, session: Any = None) -> PaperBook:
    """The book named ``name`` (``BookNotFound`` naming the known books otherwise)."""
    from engine.db import read_scope

    def find(s):
        book = s.exec(select(PaperBook).where(PaperBook.name == name)).first()
        if book is None:
            known = [b.name for b in s.exec(select(PaperBook).order_by(PaperBook.id))]
            raise BookNotFound(f"no paper book {name!r} (known: {', '.join(known) or 'none'}); "
                               f"create it with `python -m engine paper create {name}`")
        return book

    if session is not None:
        return find(session)
    with read_scope() as s:
        return find(s)


def list_books() -> list[PaperBook]:
    from engine.db import read_scope

    with read_scope() as s:
        return list(s.exec(select(PaperBook).order_by(PaperBook.id)))


def sleeves_of(book: PaperBook, session: Any = None) -> list[PaperSleeve]:
    """The book's sleeves in the order they were added (the order they act in a bar)."""
    from engine.db import read_scope

    q = select(PaperSleeve).where(PaperSleeve.book_id == book.id).order_by(PaperSleeve.id)
    if session is not None:
        return list(session.exec(q))
    with read_scope() as s:
        return list(s.exec(q))


def get_sleeve(book: PaperBook, name: str, session: Any = None) -> PaperSleeve:
    for sl in sleeves_of(book, session):
        if sl.name == name:
            return sl
    known = ", ".join(s.name for s in sleeves_of(book, session)) or "none"
    raise BookNotFound(f"book {book.name!r} has no sleeve {name!r} (known: {known}); add it "
                       f"with `python -m engine paper add {book.name} {name} ...`")


def add_sleeve(book_name: str, name: str, kind: str, symbols: list[str], config: dict[str, Any],
               allocation: float = 1.0) -> PaperSleeve:
    """Add a sleeve; ``config`` is the kind's (see :mod:`engine.paper.sources`), checked by
    building its signal source on the stored bars now."""
    from engine.db import session_scope
    from engine.paper.sources import validate_config

    if kind not in KINDS:
        raise ParameterError(f"sleeve kind {kind!r} is not one of {', '.join(KINDS)}")
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ParameterError("a sleeve needs a name of 1 to 64 characters")
    symbols = [s.strip() for s in symbols if s.strip()]
    if not symbols:
        raise ParameterError("a sleeve needs --symbols, e.g. --symbols SP500 (see `data list`)")
    if not 0 < allocation <= 1:
        raise ParameterError(f"allocation is a fraction of the book's cash in (0, 1], got "
                             f"{allocation}; e.g. --allocation 0.5")
    existing = sleeves_of(get_book(book_name))
    # checked before the write transaction: building a source reads (and may seed) data
    config = validate_config(kind, symbols, config, {s.name: s for s in existing})
    with session_scope() as session:
        book = get_book(book_name, session)
        existing = sleeves_of(book, session)
        if any(s.name == name for s in existing):
            raise ParameterError(f"book {book.name!r} already has a sleeve {name!r}; "
                                 "pick another name")
        used = sum(s.allocation for s in existing)
        if used + allocation > 1 + 1e-9:
            free = max(0.0, 1 - used)
            fix = (f"lower --allocation to at most {free:g}" if free > 1e-9 else
                   "the book is fully allocated: add the sleeve to another book (or create "
                   "one), or give the first sleeves a smaller --allocation")
            raise ParameterError(
                f"allocations would sum to {used + allocation:g} > 1 (already {used:g}); {fix}")
        cash = book.cash0 * allocation
        if cash > book.cash + 1e-6:
            raise ParameterError(f"the book has {book.cash:,.2f} unallocated cash, the sleeve "
                                 f"needs {cash:,.2f}; lower --allocation")
        start = book.start
        if book.clock is not None:  # added to a running book: trades from the next bar
            start = _after(book.clock)
        sleeve = PaperSleeve(book_id=book.id, name=name, kind=kind, symbols=symbols,
                             allocation=float(allocation), config=config, cash0=cash,
                             cash=cash, start=start, peak_equity=cash, equity=cash)
        book.cash -= cash
        session.add(book)
        session.add(sleeve)
        session.flush()
        session.refresh(sleeve)
        return sleeve


def _after(t: datetime) -> datetime:
    from datetime import timedelta

    return t + timedelta(microseconds=1)


def set_paused(book_name: str, sleeve_name: str, paused: bool, reason: str = "") -> PaperSleeve:
    """Pause (no new entries; exits, stops and targets still run) or resume a sleeve.

    Resuming clears the reason and restarts the drawdown peak at the sleeve's equity, so
    the circuit breaker measures from here."""
    from engine.db import session_scope

    with session_scope() as session:
        book = get_book(book_name, session)
        sleeve = get_sleeve(book, sleeve_name, session)
        sleeve.status = "paused" if paused else "active"
        sleeve.paused_reason = (reason or "paused by hand") if paused else ""
        if not paused:
            sleeve.peak_equity = sleeve.equity
            sleeve.config = {**sleeve.config, "breaker_since": len(_closed(session, sleeve))}
        session.add(sleeve)
        session.flush()
        session.refresh(sleeve)
        return sleeve


def _closed(session: Any, sleeve: PaperSleeve) -> list[Any]:
    from engine.paper.tables import PaperTrade

    return list(session.exec(select(PaperTrade.id).where(PaperTrade.sleeve_id == sleeve.id)))
