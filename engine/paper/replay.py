"""The replay clock: process stored bars from a book's clock, one transaction per bar.

For every bar ``T`` after the clock (in time order, over the union of the sleeves' bars),
every sleeve with a bar at ``T`` — in the order the sleeves were added — runs the
backtester's own bar loop for that one bar (:func:`engine.backtest.resumable.run_bars`),
from its state as the ledger holds it: cash, open positions and the orders its signals left
pending at the previous close. Before the loop, the book's risk manager
(:func:`engine.risk.check_entry`) sees each pending entry: a refusal sets its budget scale to
0 (the exit half of a reversal still runs), a halving to 0.5, and ``max_position_size``
caps its notional. Then fills, closed trades, positions, equity snapshots (each sleeve and
the book), risk events and the clock are written in one transaction.

An ``analyst`` sleeve (:mod:`engine.paper.analyst`) decides at a close just before the
next bar is processed — on the book's positions after that close, each decision linked in
``paper_decisions`` before the bar's transaction — and its order, sized and with the stop
and target prices of its decision, is placed and executed in that bar's transaction.

So a bar is processed at most once (a bar at or before the clock is never processed again),
and a process killed in the middle of a replay leaves the ledger of a whole number of bars:
running the same command again continues from there and ends with exactly the ledger an
uninterrupted run writes (tests/paper/test_replay.py kills a real process).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import select

from engine.backtest.enums import (
    EXIT_REASONS,
    P_ENTRY_BAR,
    P_ENTRY_COMM,
    P_ENTRY_PRICE,
    P_SIZE,
    P_SL,
    P_TP,
)
from engine.backtest.resumable import run_bars
from engine.errors import ParameterError
from engine.paper.analyst import (
    AnalystSource,
    Pending,
    entry_sizing,
    portfolio_of,
    set_levels,
)
from engine.paper.book import get_book, limits_of, sleeves_of
from engine.paper.breaker import breaker_reason
from engine.paper.state import SleeveRun, load_run, load_sleeve_data, to_dt
from engine.paper.tables import (
    PaperBook,
    PaperDecision,
    PaperEquity,
    PaperFill,
    PaperOrder,
    PaperPosition,
    PaperRiskEvent,
    PaperSleeve,
    PaperTrade,
)
from engine.progress import ProgressCallback, report
from engine.risk import EntryRequest, check_entry, rolling_correlation


@dataclass(frozen=True)
class StepResult:
    """What a ``paper step`` did."""

    book: str
    bars: int
    first: datetime | None
    clock: datetime | None
    equity: float

    def to_dict(self) -> dict[str, Any]:
        iso = (lambda t: t.isoformat() if t is not None else None)  # noqa: E731
        return {"book": self.book, "bars": self.bars, "first": iso(self.first),
                "clock": iso(self.clock), "equity": self.equity}


def _timeline(runs: list[SleeveRun], book: PaperBook, to: datetime | None,
              bars: int | None) -> list[np.datetime64]:
    allts = np.unique(np.concatenate([r.data.ts for r in runs]))
    if book.clock is not None:
        allts = allts[allts > np.datetime64(book.clock, "us")]
    if book.start is not None:
        allts = allts[allts >= np.datetime64(book.start, "us")]
    if to is not None:
        allts = allts[allts <= np.datetime64(to, "us")]
    if bars is not None:
        allts = allts[:bars]
    return list(allts)


class _Marks:
    """The price of each symbol at this bar's open (its last close when it has no bar)."""

    def __init__(self, runs: list[SleeveRun]):
        self.runs = runs

    def price(self, run: SleeveRun, k: int, t: np.datetime64) -> float:
        i = run.data.index.get(t)
        if i is not None:
            return float(run.data.open[k, i])
        j = int(np.searchsorted(run.data.ts, t, side="left")) - 1
        return float(run.data.close[k, max(j, 0)])

    def book_equity(self, book_cash: float, t: np.datetime64) -> float:
        eq = book_cash
        for r in self.runs:
            eq += r.state.cash
            for k in np.flatnonzero(r.state.pos[:, P_SIZE]):
                eq += r.state.pos[k, P_SIZE] * self.price(r, int(k), t)
        return float(eq)


def _closes_until(run: SleeveRun, k: int, t: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    j = int(np.searchsorted(run.data.ts, t, side="right"))
    return run.data.ts[:j], run.data.close[k, :j]


def _correlation(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray],
                 window: int) -> float | None:
    common, ia, ib = np.intersect1d(a[0][-(window + 1) * 3:], b[0][-(window + 1) * 3:],
                                    return_indices=True)
    off_a = max(0, a[0].shape[0] - (window + 1) * 3)
    off_b = max(0, b[0].shape[0] - (window + 1) * 3)
    return rolling_correlation(a[1][ia + off_a], b[1][ib + off_b], window)


def step_book(name: str, *, to: Any = None, bars: int | None = None,
              on_progress: ProgressCallback | None = None) -> StepResult:
    """Process the stored bars after the book's clock up to ``to`` (a date or time,
    inclusive) or the next ``bars`` bars; returns what was done."""
    from engine.db import read_scope

    if (to is None) == (bars is None):
        raise ParameterError("say how far to step: --to DATE or --bars N (one of them)")
    if bars is not None and bars < 1:
        raise ParameterError(f"--bars must be >= 1, got {bars}")
    until = _parse_time(to) if to is not None else None
    book = get_book(name)
    sleeves = sleeves_of(book)
    if not sleeves:
        raise ParameterError(f"book {name!r} has no sleeves; add one with "
                             f"`python -m engine paper add {name} SLEEVE --symbols ...`")
    data = [load_sleeve_data(s) for s in sleeves]  # reads (and may seed) the market data
    with read_scope() as session:
        runs = [load_run(session, s, d, book.clock) for s, d in zip(sleeves, data, strict=True)]
        for r in runs:
            if r.sleeve.kind == "analyst":
                r.analyst = AnalystSource(book, r.sleeve, r.data.ts)
        last_book = session.exec(select(PaperEquity).where(
            PaperEquity.book_id == book.id, PaperEquity.sleeve_id.is_(None)).order_by(
            PaperEquity.time.desc())).first()
        day_ref = None
        if last_book is not None:
            prev_day = session.exec(select(PaperEquity).where(
                PaperEquity.book_id == book.id, PaperEquity.sleeve_id.is_(None),
                PaperEquity.time < datetime.combine(last_book.time.date(),
                                                    datetime.min.time())).order_by(
                PaperEquity.time.desc())).first()
            day_ref = prev_day.equity if prev_day is not None else None
    timeline = _timeline(runs, book, until, bars)
    first = to_dt(timeline[0]) if timeline else None
    last_equity = last_book.equity if last_book is not None else book.cash0
    last_date = last_book.time.date() if last_book is not None else None
    for n_done, t in enumerate(timeline, 1):
        _decide(runs, t, last_equity - day_ref if day_ref is not None else 0.0)
        date = to_dt(t).date()
        if date != last_date:
            day_ref = last_equity
        last_equity = _process_bar(book, runs, t, day_ref)
        last_date = date
        report(on_progress, n_done, len(timeline), f"{book.name} {to_dt(t):%Y-%m-%d}")
    clock = to_dt(timeline[-1]) if timeline else book.clock
    return StepResult(book.name, len(timeline), first, clock, float(last_equity))


def _decide(runs: list[SleeveRun], t: np.datetime64, day_pnl: float) -> None:
    """The analyst sleeves' decisions at their last close before ``t`` (the orders ``t``'s
    open executes), on the book's positions and day P&L at that close."""
    for run in runs:
        run.decided = None
        i = run.data.index.get(t)
        if run.analyst is None or i is None or i == 0 or not run.analyst.due(i - 1):
            continue
        n_open = sum(int(np.count_nonzero(r.state.pos[:, P_SIZE])) for r in runs)
        run.decided = run.analyst.decide(i - 1, portfolio_of(n_open, day_pnl))
        run.pending = run.decided.side.copy()


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"{text!r} is not a date; give YYYY-MM-DD") from None
    if len(text) <= 10:  # a date: the whole day
        t = t.replace(hour=23, minute=59, second=59, microsecond=999999)
    return t


def _process_bar(book: PaperBook, runs: list[SleeveRun], t: np.datetime64,
                 day_ref: float | None) -> float:
    """One bar of the whole book in one transaction; returns the book's equity."""
    from engine.db import session_scope

    when = to_dt(t)
    limits = limits_of(book)
    marks = _Marks(runs)
    with session_scope() as session:
        for run in runs:
            i = run.data.index.get(t)
            if i is None:
                continue
            _step_sleeve(session, book, run, i, when, t, marks, limits, runs, day_ref)
        equity = book.cash + sum(r.sleeve.equity for r in runs)
        session.add(PaperEquity(book_id=book.id, sleeve_id=None, time=when,
                                cash=book.cash + sum(r.state.cash for r in runs),
                                equity=float(equity)))
        db_book = session.get(PaperBook, book.id)
        db_book.clock = when
        session.add(db_book)
    book.clock = when
    return float(equity)


def _step_sleeve(session: Any, book: PaperBook, run: SleeveRun, i: int, when: datetime,
                 t: np.datetime64, marks: _Marks, limits: Any, runs: list[SleeveRun],
                 day_ref: float | None) -> None:
    d, st, ex, sleeve = run.data, run.state, run.data.execution, run.sleeve
    n_rows = len(d.symbols)
    pos = st.pos
    scale = np.ones(n_rows)
    cap = np.full(n_rows, np.inf)
    statuses: dict[int, str] = {}
    pend = run.pending
    dec = run.decided
    if dec is not None and i > 0:
        _decision_orders(session, book, run, dec, d.ts[i - 1])
    size = pos[:, P_SIZE]
    exits = ((pend < 0) & (size > 0)) | ((pend > 0) & (size < 0))
    entries = ((pend > 0) & (size <= 0)) | ((pend < 0) & ex.allow_short & (size >= 0))
    if i > 0 and np.any(pend):
        if np.any(entries):
            c = book.commission
            o = d.open[:, i]
            cash_after = st.cash + float(np.sum(np.where(
                exits, size * o - np.abs(size) * o * c, 0.0)))
            still = ~exits & (size != 0)
            eq_open_sleeve = cash_after + float(np.sum(np.where(still, size * o, 0.0)))
            book_eq = marks.book_equity(book.cash, t)
            n_open = sum(int(np.count_nonzero(r.state.pos[:, P_SIZE])) for r in runs)
            n_open -= int(np.count_nonzero(exits))
            held = [(r, int(k)) for r in runs for k in np.flatnonzero(r.state.pos[:, P_SIZE])
                    if not (r is run and exits[k])]
            for k in np.flatnonzero(entries):
                k = int(k)
                sym = d.symbols[k]
                if sleeve.status == "paused":
                    scale[k] = 0.0
                    statuses[k] = "vetoed"
                    _event(session, book, sleeve, sym, when, "paused", "refuse",
                           {"reason": sleeve.paused_reason})
                    continue
                if dec is not None and not dec.enter[k]:  # the analyst's own risk check
                    scale[k] = 0.0
                    statuses[k] = "vetoed"
                    _event(session, book, sleeve, sym, when, "analyst_risk", "refuse",
                           {"reasons": dec.reasons.get(k, "")})
                    continue
                row_size = float(dec.size[k]) if dec is not None else ex.size
                if row_size <= 0:
                    budget = cash_after
                else:
                    budget = row_size * eq_open_sleeve
                    if pend[k] > 0:
                        budget = min(budget, cash_after)
                corr = {}
                if limits.correlation_limit is not None and held:
                    mine = _closes_until(run, k, d.ts[i - 1])
                    for r, q in held:
                        c_val = _correlation(mine, _closes_until(r, q, d.ts[i - 1]),
                                             limits.correlation_window)
                        if c_val is not None:
                            key = f"{r.sleeve.name}:{r.data.symbols[q]}"
                            corr[key] = c_val
                day_pnl = book_eq - day_ref if day_ref is not None else 0.0
                verdict = check_entry(EntryRequest(sleeve.name, sym, budget, book_eq, n_open,
                                                   day_pnl, corr), limits)
                scale[k], cap[k] = verdict.scale, verdict.cap
                for e in verdict.events:
                    _event(session, book, sleeve, sym, when, e["rule"], e["action"], e["detail"])
                if verdict.refused:
                    statuses[k] = "vetoed"
                else:
                    n_open += 1
                    if verdict.events:
                        statuses[k] = "resized"
    run.work[:, i - 1] = pend if i > 0 else 0
    before = pos[:, P_SIZE].copy()
    step_size = ex.size
    if dec is not None:  # each entry sized by its decision
        step_size, rel = entry_sizing(dec, np.flatnonzero(entries))
        scale = scale * rel
    out = run_bars(d.open, d.high, d.low, d.close, run.work, st, i, i + 1,
                   allow_short=ex.allow_short, stop_loss=ex.stop_loss,
                   take_profit=ex.take_profit, size=step_size, max_positions=ex.max_positions,
                   commission=book.commission, whole_units=not book.fractional,
                   entry_scale=scale, entry_cap=cap)
    if i > 0:
        run.work[:, i - 1] = 0
    if dec is not None:
        set_levels(pos, i, dec)
    touched = set()
    for tr in out.trades:
        k = int(tr["symbol"])
        touched.add(k)
        reason = EXIT_REASONS[int(tr["reason"])]
        exit_comm = float(tr["commission"]) - float(abs(tr["size"]) * tr["entry_price"]
                                                   * book.commission)
        session.add(PaperFill(book_id=book.id, sleeve_id=sleeve.id, symbol=d.symbols[k],
                              time=when, price=float(tr["exit_price"]),
                              size=-float(tr["size"]), commission=exit_comm, reason=reason))
        session.add(PaperTrade(
            book_id=book.id, sleeve_id=sleeve.id, symbol=d.symbols[k],
            entry_time=to_dt(d.ts[int(tr["entry_bar"])]), exit_time=when,
            entry_price=float(tr["entry_price"]), exit_price=float(tr["exit_price"]),
            size=float(tr["size"]), pnl=float(tr["pnl"]),
            return_pct=float(tr["return_frac"]) * 100.0, exit_reason=reason,
            commission=float(tr["commission"]),
            bars_held=int(tr["exit_bar"]) - int(tr["entry_bar"])))
        run.pnls.append(float(tr["pnl"]))
        if reason == "signal" and k in run.pending_ids:
            statuses.setdefault(k, "filled")
    for k in range(n_rows):
        if pos[k, P_SIZE] != 0.0 and int(pos[k, P_ENTRY_BAR]) == i:
            touched.add(k)
            statuses[k] = "filled" if statuses.get(k) != "resized" else "resized"
            session.add(PaperFill(book_id=book.id, sleeve_id=sleeve.id, symbol=d.symbols[k],
                                  time=when, price=float(pos[k, P_ENTRY_PRICE]),
                                  size=float(pos[k, P_SIZE]),
                                  commission=float(pos[k, P_ENTRY_COMM]), reason="entry"))
        elif before[k] != pos[k, P_SIZE]:
            touched.add(k)
    for k in touched:
        old = run.position_ids.pop(k, None)
        if old is not None:
            session.delete(session.get(PaperPosition, old))
            session.flush()
        if pos[k, P_SIZE] != 0.0:
            p = PaperPosition(book_id=book.id, sleeve_id=sleeve.id, symbol=d.symbols[k],
                              size=float(pos[k, P_SIZE]),
                              entry_time=to_dt(d.ts[int(pos[k, P_ENTRY_BAR])]),
                              entry_price=float(pos[k, P_ENTRY_PRICE]),
                              entry_comm=float(pos[k, P_ENTRY_COMM]), sl=float(pos[k, P_SL]),
                              tp=float(pos[k, P_TP]))
            session.add(p)
            session.flush()
            run.position_ids[k] = p.id
    for k, oid in run.pending_ids.items():
        order = session.get(PaperOrder, oid)
        order.status = statuses.get(k, "dropped")
        order.fill_time = when
        session.add(order)
    run.pending_ids = {}
    run.pending = d.signals[:, i].copy()
    for k in np.flatnonzero(run.pending):
        o = PaperOrder(book_id=book.id, sleeve_id=sleeve.id, symbol=d.symbols[int(k)],
                       side=int(run.pending[k]), signal_time=when)
        session.add(o)
        session.flush()
        run.pending_ids[int(k)] = o.id
    equity = float(out.equity[0])
    db_sleeve = session.get(PaperSleeve, sleeve.id)
    db_sleeve.cash = st.cash
    db_sleeve.equity = equity
    db_sleeve.bankrupt = st.bankrupt
    db_sleeve.peak_equity = max(db_sleeve.peak_equity, equity)
    if book.breaker and db_sleeve.status == "active":
        reason = breaker_reason(run.pnls[int(db_sleeve.config.get("breaker_since", 0)):],
                                equity, db_sleeve.peak_equity, book)
        if reason is not None:
            db_sleeve.status = "paused"
            db_sleeve.paused_reason = reason["text"]
            _event(session, book, sleeve, "", when, "circuit_breaker", "pause", reason)
    session.add(db_sleeve)
    for attr in ("cash", "equity", "bankrupt", "peak_equity", "status", "paused_reason"):
        setattr(sleeve, attr, getattr(db_sleeve, attr))
    session.add(PaperEquity(book_id=book.id, sleeve_id=sleeve.id, time=when, cash=st.cash,
                            equity=equity))
    run.last_i = i


def _decision_orders(session: Any, book: PaperBook, run: SleeveRun, dec: Pending,
                     at: np.datetime64) -> None:
    """The orders of an analyst sleeve's decisions at the close ``at``, linked to them."""
    for k, link_id in dec.link_ids.items():
        if dec.side[k] == 0:
            continue
        o = PaperOrder(book_id=book.id, sleeve_id=run.sleeve.id, symbol=run.data.symbols[k],
                       side=int(dec.side[k]), signal_time=to_dt(at))
        session.add(o)
        session.flush()
        run.pending_ids[k] = o.id
        link = session.get(PaperDecision, link_id)
        link.order_id = o.id
        session.add(link)


def _event(session: Any, book: PaperBook, sleeve: PaperSleeve, symbol: str, when: datetime,
           rule: str, action: str, detail: dict[str, Any]) -> None:
    session.add(PaperRiskEvent(book_id=book.id, sleeve_id=sleeve.id, symbol=symbol, time=when,
                               rule=rule, action=action, detail=dict(detail)))
