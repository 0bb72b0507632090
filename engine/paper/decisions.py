"""An analyst sleeve's record: its decisions (``paper_decisions``, each linked to its
``ai_decisions`` row and to the order it caused) and their replay as signals.

:func:`analyst_backtest` runs the recorded decisions through the backtester's compiled step
(:func:`engine.backtest.step.run_bars_nb`) from a flat start — each entry sized and given
the stop-loss / take-profit prices of its decision, as :mod:`engine.paper.analyst` executes
them in a book — without asking any analyst: for a book whose rules vetoed or resized
nothing it reproduces the sleeve's trades exactly, at no cost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from sqlmodel import select

from engine.errors import ParameterError
from engine.paper.analyst import LEVEL_SWITCH, Pending, set_levels
from engine.paper.book import get_book, get_sleeve
from engine.paper.tables import PaperDecision


def sleeve_decisions(book_name: str, sleeve_name: str) -> list[dict[str, Any]]:
    """The sleeve's decisions in time order: the link rows as dicts (ISO times)."""
    from engine.db import read_scope

    book = get_book(book_name)
    sleeve = get_sleeve(book, sleeve_name)
    with read_scope() as s:
        rows = list(s.exec(select(PaperDecision).where(
            PaperDecision.sleeve_id == sleeve.id).order_by(PaperDecision.as_of,
                                                           PaperDecision.id)))
    out = []
    for r in rows:
        d = r.model_dump()
        d["as_of"] = r.as_of.isoformat()
        d["created_at"] = r.created_at.isoformat()
        out.append(d)
    return out


def analyst_backtest(book_name: str, sleeve_name: str) -> Any:
    """The recorded decisions of a one-symbol analyst sleeve replayed as signals through the
    backtester's compiled step from a flat start (the sleeve's cash, the book's commission),
    on the symbol's bars up to the book's clock: a
    :class:`~engine.backtest.BacktestResult`. No analyst is asked."""
    from engine.backtest import BacktestResult, BacktestSettings
    from engine.backtest.enums import N_KERNEL_METRICS, N_POS_FIELDS, N_STATS, new_trades
    from engine.backtest.kernel import metrics_nb
    from engine.backtest.metrics import metrics_dict, periods_per_year
    from engine.backtest.results import equity_frame, trades_frame
    from engine.backtest.runner import ohlcv_arrays
    from engine.backtest.step import close_at_end_nb, run_bars_nb
    from engine.market import load_dataset

    book = get_book(book_name)
    sleeve = get_sleeve(book, sleeve_name)
    if sleeve.kind != "analyst":
        raise ParameterError(f"sleeve {sleeve_name!r} is a {sleeve.kind} sleeve, not an "
                             "analyst; reconcile it with `paper reconcile`")
    if len(sleeve.symbols) != 1:
        raise ParameterError(f"sleeve {sleeve_name!r} trades {len(sleeve.symbols)} symbols; "
                             "the decision replay compares one-symbol sleeves")
    if book.clock is None:
        raise ParameterError(f"book {book_name!r} has processed no bars; run "
                             f"`python -m engine paper step {book_name} --bars N` first")
    frame = load_dataset(sleeve.symbols[0], end=book.clock)
    ts = frame.get_column("timestamp").cast(pl.Datetime("us")).to_numpy()
    n = ts.shape[0]
    sig = np.zeros((1, n), np.int8)
    pend = {}
    for d in sleeve_decisions(book_name, sleeve_name):
        t = np.datetime64(datetime.fromisoformat(d["as_of"]), "us")
        j = int(np.searchsorted(ts, t))
        if j < n and ts[j] == t and d["side"] != 0:
            sig[0, j] = d["side"]
            p = Pending.empty(1)
            p.side[0], p.enter[0], p.size[0] = d["side"], d["enter"], d["size"]
            p.stop_loss[0] = np.nan if d["stop_loss"] is None else d["stop_loss"]
            p.take_profit[0] = np.nan if d["take_profit"] is None else d["take_profit"]
            pend[j] = p
    o, h, lo, c, _ = (a.reshape(1, n) for a in ohlcv_arrays(frame))
    allow_short = bool(sleeve.config.get("short", False))
    equity, pos_out, stats = np.zeros(n), np.zeros((1, n)), np.zeros(N_STATS)
    trades = new_trades(2 * len(pend) + 2)
    pos = np.zeros((1, N_POS_FIELDS))
    cash, n_tr, bankrupt = float(sleeve.cash0), 0, False

    def run(i0: int, i1: int, size: float, scale: float) -> None:
        nonlocal cash, n_tr, bankrupt
        cash, n_tr, bankrupt = run_bars_nb(
            o, h, lo, c, sig, allow_short, LEVEL_SWITCH, LEVEL_SWITCH, size, 1, cash,
            float(book.commission), not book.fractional, equity, pos_out, stats, True,
            trades, pos, i0, i1, n_tr, bankrupt, np.array([scale]), np.array([np.inf]))

    cur = 0
    for j in sorted(pend):
        if j + 1 >= n:
            break
        run(cur, j + 1, 1.0, 1.0)  # no order pending in these bars
        p = pend[j]
        run(j + 1, j + 2, float(p.size[0]) or 1.0, 1.0 if p.enter[0] else 0.0)
        set_levels(pos, j + 1, p)
        cur = j + 2
    run(cur, n, 1.0, 1.0)
    n_tr = close_at_end_nb(c, pos, True, trades, n_tr, stats)
    ppy = periods_per_year(frame.get_column("timestamp"))
    mrow = np.empty(N_KERNEL_METRICS)
    metrics_nb(equity, pos_out[0], stats, float(sleeve.cash0), c[0], ppy, mrow)
    settings = BacktestSettings(cash=sleeve.cash0, commission=book.commission,
                                allow_short=allow_short, fractional=book.fractional,
                                trade_start=sleeve.start)
    return BacktestResult(
        strategy=f"analyst:{sleeve.name}", params={}, settings=settings,
        metrics=metrics_dict(mrow, ppy), trades=trades_frame(trades[:n_tr],
                                                             frame.get_column("timestamp")),
        equity=equity_frame(frame.get_column("timestamp"), c[0], equity, pos_out[0],
                            sleeve.cash0 * c[0] / c[0, 0]),
        signals=sig[0])


__all__ = ["analyst_backtest", "sleeve_decisions"]
