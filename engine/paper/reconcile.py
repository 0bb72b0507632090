"""Backtest vs paper: a sleeve's trades against the backtest of the same bars.

The backtest is what ``python -m engine backtest`` runs for the sleeve's definition on its
symbol's bars up to the book's clock, with ``--trade-start`` the sleeve's start and
``--cash`` the sleeve's starting cash (allocation × the book's cash): for a sleeve at
allocation 1.0 in a book whose rules vetoed or resized nothing the two are identical (entry
and exit times, prices, sizes, pnl, exit reasons; final equity to 1e-9). Otherwise each
difference is listed with its cause — the risk event at that entry (the rule and its
numbers), a pause, or "follows an earlier difference" (a changed trade moves every later
one).
"""

from __future__ import annotations

from typing import Any

from engine.errors import ParameterError
from engine.paper.book import get_book, get_sleeve
from engine.paper.ledger import book_events, book_trades

FIELDS = ("exit_time", "entry_price", "exit_price", "size", "pnl", "exit_reason")
#: Final equities closer than this are equal (the invariant's tolerance).
EQUITY_TOLERANCE = 1e-9


def sleeve_backtest(book_name: str, sleeve_name: str) -> Any:
    """The :class:`~engine.backtest.BacktestResult` the sleeve must equal."""
    from engine.backtest import BacktestSettings, run_backtest, run_signals
    from engine.market import load_dataset
    from engine.paper.sources import execution_of, signals_for

    book = get_book(book_name)
    sleeve = get_sleeve(book, sleeve_name)
    if len(sleeve.symbols) != 1:
        raise ParameterError(f"sleeve {sleeve_name!r} trades {len(sleeve.symbols)} symbols; "
                             "reconcile compares one-symbol sleeves (add one sleeve per symbol)")
    if book.clock is None:
        raise ParameterError(f"book {book_name!r} has processed no bars; run "
                             f"`python -m engine paper step {book_name} --bars N` first")
    frame = load_dataset(sleeve.symbols[0], end=book.clock)
    cfg = sleeve.config
    ex = execution_of(sleeve.kind, cfg, 1)
    if sleeve.kind == "strategy":
        settings = BacktestSettings(
            cash=sleeve.cash0, commission=book.commission, stop_loss=cfg.get("stop_loss"),
            take_profit=cfg.get("take_profit"), size=cfg.get("size"),
            allow_short=ex.allow_short, fractional=book.fractional, trade_start=sleeve.start)
        return run_backtest(frame, cfg["strategy"], cfg["params"], settings)
    settings = BacktestSettings(
        cash=sleeve.cash0, commission=book.commission, stop_loss=ex.stop_loss or None,
        take_profit=ex.take_profit or None, size=ex.size or None, allow_short=ex.allow_short,
        fractional=book.fractional, trade_start=sleeve.start)
    return run_signals(frame, signals_for(sleeve.kind, cfg, frame), settings,
                       name=f"{sleeve.kind}:{sleeve.name}")


def reconcile(book_name: str, sleeve_name: str) -> dict[str, Any]:
    """``{"identical", "paper_trades", "backtest_trades", "differences": [{"trade", "field",
    "paper", "backtest", "cause"}], "paper_final_equity", "backtest_final_equity"}``."""
    bt = sleeve_backtest(book_name, sleeve_name)
    book = get_book(book_name)
    sleeve = get_sleeve(book, sleeve_name)
    paper = book_trades(book_name, sleeve_name)
    back = bt.to_dict()["trades"]
    events = [e for e in book_events(book_name) if e["sleeve"] == sleeve_name]
    by_time: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_time.setdefault(e["time"], []).append(e)
    diffs: list[dict[str, Any]] = []
    first_cause: str | None = None

    def cause_at(time: str | None) -> str:
        nonlocal first_cause
        evs = by_time.get(time or "", [])
        if evs:
            c = "; ".join(f"{e['rule']} ({e['action']}): {e['detail']}" for e in evs)
        elif first_cause is not None:
            c = f"follows an earlier difference ({first_cause})"
        else:
            c = "no risk event explains it"
        if first_cause is None:
            first_cause = c
        return c

    p_by = {t["entry_time"]: t for t in paper}
    b_by = {t["entry_time"]: t for t in back}
    for n, t in enumerate(sorted(set(p_by) | set(b_by))):
        p, b = p_by.get(t), b_by.get(t)
        if p is None or b is None:
            diffs.append({"trade": n, "field": "entry_time", "paper": p and t,
                          "backtest": b and t, "cause": cause_at(t)})
            continue
        for f in FIELDS:
            if p[f] != b[f]:
                diffs.append({"trade": n, "field": f, "paper": p[f], "backtest": b[f],
                              "cause": cause_at(t)})
    final_b = float(bt.metrics["final_equity"])
    final_p = float(sleeve.equity)
    if abs(final_b - final_p) > EQUITY_TOLERANCE:
        diffs.append({"trade": None, "field": "final_equity", "paper": final_p,
                      "backtest": final_b, "cause": first_cause or cause_at(None)})
    return {"identical": not diffs, "paper_trades": paper, "backtest_trades": back,
            "differences": diffs, "paper_final_equity": final_p,
            "backtest_final_equity": final_b}
