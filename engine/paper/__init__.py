"""The paper-trading desk: books of sleeves trading forward, bar by bar, under one risk manager.

Public names::

    BookSettings, create_book(name, settings) -> PaperBook, get_book, list_books
    add_sleeve(book, sleeve, kind, symbols, config, allocation) -> PaperSleeve
    pause_sleeve(book, sleeve, reason), resume_sleeve(book, sleeve)
    step_book(book, to=DATE | bars=N, on_progress) -> StepResult     (the replay clock)
    refresh(book=None, session=None) -> {"downloaded", "skipped", "books"}  (live: download, step)
    set_live(book, on) -> live books, live_books()   (the scheduled live job: schedule)
    book_status(book), book_trades(book, sleeve), book_events(book), open_positions(book)
    book_equity(book) -> {"time", "equity", per-sleeve columns}      (equity snapshots)
    reconcile(book, sleeve) -> {"identical", "paper_trades", "backtest_trades", "differences"}
    sleeve_backtest(book, sleeve) -> BacktestResult
    ensemble_vote(member_signals, close, weighting, window, threshold) -> signals
    backtest_ensemble(data, members, settings, weighting, window, threshold) -> BacktestResult
    sleeve_decisions(book, sleeve) -> [rows]   (an analyst sleeve's decisions, linked to orders)
    analyst_backtest(book, sleeve) -> BacktestResult   (its recorded decisions as signals)
    BookNotFound, KINDS
    (the page's helpers, :mod:`engine.paper.actions`) sleeve_controls, clock_info,
    SleeveSpec, sleeve_config_from_backtest / _promoted / _version / _analyst, ensemble_spec,
    add_spec, unique_sleeve_name, free_allocation, analyst_available, book_orders,
    book_fills, buy_and_hold, position_correlations

Modules: ``tables`` (the ledger), ``book`` (books and sleeves), ``sources`` (signals by
sleeve kind), ``ensemble`` (the vote), ``analyst`` (analyst sleeves: decisions bar by bar),
``decisions`` (their record, linked to orders, and its replay as signals), ``state`` (a
sleeve's state as the ledger holds it), ``replay`` (the clock: one transaction per bar,
the backtester's own bar loop), ``breaker`` (circuit breaker), ``ledger`` (reads),
``reconcile`` (backtest vs paper), ``actions`` (what the page may do, and sleeves
built from other pages). The risk rules live in :mod:`engine.risk`.
"""

from engine.paper.actions import (
    SleeveSpec,
    add_spec,
    analyst_available,
    book_fills,
    book_orders,
    buy_and_hold,
    clock_info,
    ensemble_spec,
    free_allocation,
    position_correlations,
    sleeve_config_from_analyst,
    sleeve_config_from_backtest,
    sleeve_config_from_promoted,
    sleeve_config_from_version,
    sleeve_controls,
    unique_sleeve_name,
)
from engine.paper.book import (
    KINDS,
    BookNotFound,
    BookSettings,
    add_sleeve,
    create_book,
    get_book,
    list_books,
    set_paused,
)
from engine.paper.decisions import analyst_backtest, sleeve_decisions
from engine.paper.ensemble import vote as ensemble_vote
from engine.paper.equity import book_equity
from engine.paper.ledger import book_events, book_status, book_trades, open_positions
from engine.paper.live import refresh
from engine.paper.reconcile import reconcile, sleeve_backtest
from engine.paper.replay import StepResult, step_book
from engine.paper.schedule import live_books, set_live
from engine.paper.strategy import backtest_ensemble


def pause_sleeve(book: str, sleeve: str, reason: str = "") -> object:
    """Pause a sleeve by hand: no new entries; exits, stops and targets still run."""
    return set_paused(book, sleeve, True, reason)


def resume_sleeve(book: str, sleeve: str) -> object:
    """Resume a paused sleeve (the circuit breaker measures afresh from now)."""
    return set_paused(book, sleeve, False)


__all__ = [
    # engine.paper.actions (the Paper Trading page)
    "SleeveSpec",
    "add_spec",
    "analyst_available",
    "book_fills",
    "book_orders",
    "buy_and_hold",
    "clock_info",
    "ensemble_spec",
    "free_allocation",
    "position_correlations",
    "sleeve_config_from_analyst",
    "sleeve_config_from_backtest",
    "sleeve_config_from_promoted",
    "sleeve_config_from_version",
    "sleeve_controls",
    "unique_sleeve_name",
    # the desk
    "KINDS",
    "BookNotFound",
    "BookSettings",
    "StepResult",
    "add_sleeve",
    "analyst_backtest",
    "backtest_ensemble",
    "book_equity",
    "book_events",
    "book_status",
    "book_trades",
    "create_book",
    "ensemble_vote",
    "get_book",
    "list_books",
    "live_books",
    "open_positions",
    "pause_sleeve",
    "reconcile",
    "refresh",
    "resume_sleeve",
    "set_live",
    "sleeve_backtest",
    "sleeve_decisions",
    "step_book",
]
