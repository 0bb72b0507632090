"""Backtest vs paper: a sleeve's trades against the backtest of the same bars.

The backtest is what ``python -m engine backtest`` runs for the sleeve's definition on its
symbol's bars up to the book's clock, with ``--trade-start`` the sleeve's start and
``--cash`` the sleeve's starting cash (allocation × the book's cash): for a sleeve at
allocation 1.0 in a book whose rules vetoed or resized nothing the two are identical (entry
and exit times, prices, sizes, pnl, exit reasons; final equity to 1e-9).

A sleeve on **several symbols** is one account (as the replay trades it): its backtest is
the portfolio backtest of ``backtest --data A,B,C --max-positions N`` — the symbols' bars
aligned on the timestamps they share, each symbol's signals from its own bars, the sleeve's
slots and sizing (:func:`engine.paper.sources.execution_of`), signals before the sleeve's
start ignored — run by the same compiled portfolio kernel. Trades are matched per symbol
(by symbol and entry time), and ``symbols`` sums each symbol's trades and pnl on both sides.

Each difference is listed with its cause: the risk event at that entry (the rule and its
numbers; book-wide limits name the other sleeves they are shared with), a pause, "follows
an earlier difference in SYMBOL" (a changed trade moves every later one of that symbol), or
"cash shared with SYMBOL in this sleeve" (a veto or resize in one symbol changes the cash,
and so the sizes and the free slots, of the others).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import ParameterError
from engine.paper.book import get_book, get_sleeve, sleeves_of
from engine.paper.ledger import book_events, book_trades

FIELDS = ("exit_time", "entry_price", "exit_price", "size", "pnl", "exit_reason")
#: Final equities closer than this are equal (the invariant's tolerance).
EQUITY_TOLERANCE = 1e-9
#: Rules whose numbers count every sleeve of the book (positions, equity, the day's loss).
BOOK_WIDE = ("max_positions", "max_position_size", "daily_loss_limit")


def sleeve_backtest(book_name: str, sleeve_name: str) -> Any:
    """The :class:`~engine.backtest.BacktestResult` the sleeve must equal."""
    from engine.backtest import BacktestSettings, run_backtest, run_signals
    from engine.market import load_dataset
    from engine.paper.sources import execution_of, signals_for

    book = get_book(book_name)
    sleeve = get_sleeve(book, sleeve_name)
    if book.clock is None:
        raise ParameterError(f"book {book_name!r} has processed no bars; run "
                             f"`python -m engine paper step {book_name} --bars N` first")
    if sleeve.kind == "analyst":
        if len(sleeve.symbols) > 1:
            raise ParameterError(
                f"sleeve {sleeve_name!r} is an analyst sleeve on {len(sleeve.symbols)} symbols; "
                "reconcile compares one-symbol analyst sleeves only (their recorded decisions "
                "replayed): add one analyst sleeve per symbol to reconcile it")
        from engine.paper.decisions import analyst_backtest

        return analyst_backtest(book_name, sleeve_name)  # its recorded decisions, re-bought never
    if len(sleeve.symbols) > 1:
        return _portfolio_backtest(book, sleeve)
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


def _portfolio_backtest(book: Any, sleeve: Any) -> Any:
    """The one-account backtest of a multi-symbol sleeve (see the module docstring)."""
    import polars as pl

    from engine.backtest import BacktestResult, BacktestSettings, kernel
    from engine.backtest.enums import N_KERNEL_METRICS, N_STATS, new_trades
    from engine.backtest.metrics import metrics_dict, periods_per_year
    from engine.backtest.portfolio import align_frames
    from engine.backtest.portfolio_kernel import simulate_portfolio_nb
    from engine.backtest.results import equity_frame, trades_frame
    from engine.backtest.runner import ignore_before
    from engine.market import load_dataset
    from engine.paper.sources import execution_of, signals_for

    symbols = list(sleeve.symbols)
    frames = align_frames({s: load_dataset(s, end=book.clock) for s in symbols})
    arrays = {c: np.ascontiguousarray(np.stack(
        [frames[s].get_column(c).cast(pl.Float64).to_numpy() for s in symbols]))
        for c in ("open", "high", "low", "close")}
    sig = np.ascontiguousarray(np.stack(
        [ignore_before(frames[s], signals_for(sleeve.kind, sleeve.config, frames[s]),
                       sleeve.start) for s in symbols]).astype(np.int8))
    ex = execution_of(sleeve.kind, sleeve.config, len(symbols))
    settings = BacktestSettings(cash=sleeve.cash0, commission=book.commission,
                                allow_short=ex.allow_short, fractional=book.fractional,
                                trade_start=sleeve.start)
    eq = np.empty(sig.shape[1])
    pos = np.empty(sig.shape)
    stats = np.zeros(N_STATS)
    records = new_trades(int(np.count_nonzero(sig)) + len(symbols))
    n_tr = simulate_portfolio_nb(
        arrays["open"], arrays["high"], arrays["low"], arrays["close"], sig, ex.allow_short,
        ex.stop_loss, ex.take_profit, ex.size, ex.max_positions, float(sleeve.cash0),
        float(book.commission), not book.fractional, eq, pos, stats, records)
    npos = np.count_nonzero(pos, axis=0).astype(np.float64)
    ts = frames[symbols[0]].get_column("timestamp")
    basket = (arrays["close"] / arrays["close"][:, :1]).mean(axis=0)
    ppy = periods_per_year(ts)
    mrow = np.empty(N_KERNEL_METRICS)
    kernel.metrics_nb(eq, npos, stats, float(sleeve.cash0), basket, ppy, mrow)
    return BacktestResult(
        strategy=f"{sleeve.kind}:{sleeve.name}", params={"max_positions": ex.max_positions},
        settings=settings, metrics=metrics_dict(mrow, ppy),
        trades=trades_frame(records[:n_tr], ts, symbols),
        equity=equity_frame(ts, basket, eq, npos, sleeve.cash0 * basket), signals=sig)


def _number_text(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int) or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.4g}"


def _event_text(e: dict[str, Any], others: list[str]) -> str:
    """``rule (action): name value, …`` — the risk event's numbers, readable."""
    detail = e["detail"]
    if isinstance(detail, dict):
        detail = ", ".join(f"{k} {_number_text(v)}" for k, v in detail.items())
    text = f"{e['rule']} ({e['action']}): {detail}"
    if e["rule"] in BOOK_WIDE and others:
        text += f" — a book-wide limit shared with sleeve(s) {', '.join(others)}"
    return text


def reconcile(book_name: str, sleeve_name: str) -> dict[str, Any]:
    """``{"identical", "paper_trades", "backtest_trades", "differences": [{"trade",
    "symbol", "field", "paper", "backtest", "cause"}], "symbols": [{"symbol",
    "paper_trades", "backtest_trades", "paper_pnl", "backtest_pnl", "differences"}],
    "paper_final_equity", "backtest_final_equity"}``."""
    bt = sleeve_backtest(book_name, sleeve_name)
    book = get_book(book_name)
    sleeve = get_sleeve(book, sleeve_name)
    others = [s.name for s in sleeves_of(book) if s.name != sleeve_name]
    symbols = list(sleeve.symbols)
    paper = book_trades(book_name, sleeve_name)
    back = bt.to_dict()["trades"]  # a one-symbol backtest's trades carry no "symbol"

    def sym_of(t: dict[str, Any]) -> str:
        return t.get("symbol", symbols[0])
    events = [e for e in book_events(book_name) if e["sleeve"] == sleeve_name]
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in events:
        by_key.setdefault((e["symbol"], e["time"]), []).append(e)
    diffs: list[dict[str, Any]] = []
    first: dict[str, str] = {}  # symbol -> the cause of its first difference
    first_any: list[tuple[str, str, str]] = []  # (symbol, time, cause) of the first one

    def cause_at(symbol: str, time: str | None) -> str:
        evs = by_key.get((symbol, time or ""), []) + by_key.get(("", time or ""), [])
        if evs:
            c = "; ".join(_event_text(e, others) for e in evs)
        elif symbol in first:
            c = f"follows an earlier difference in {symbol} ({first[symbol]})"
        elif first_any:
            sym, t0, c0 = first_any[0]
            c = (f"cash shared with {sym} in this sleeve: follows its difference at {t0} "
                 f"({c0})")
        else:
            c = "no risk event explains it"
        first.setdefault(symbol, c)
        if not first_any:
            first_any.append((symbol, time or "", c))
        return c

    order = {s: k for k, s in enumerate(symbols)}
    p_by = {(t["symbol"], t["entry_time"]): t for t in paper}
    b_by = {(sym_of(t), t["entry_time"]): t for t in back}
    keys = sorted(set(p_by) | set(b_by), key=lambda k: (k[1], order.get(k[0], 0)))
    for n, key in enumerate(keys):
        sym, t = key
        p, b = p_by.get(key), b_by.get(key)
        if p is None or b is None:
            diffs.append({"trade": n, "symbol": sym, "field": "entry_time",
                          "paper": p and t, "backtest": b and t, "cause": cause_at(sym, t)})
            continue
        for f in FIELDS:
            if p[f] != b[f]:
                diffs.append({"trade": n, "symbol": sym, "field": f, "paper": p[f],
                              "backtest": b[f], "cause": cause_at(sym, t)})
    final_b = float(bt.metrics["final_equity"])
    final_p = float(sleeve.equity)
    if abs(final_b - final_p) > EQUITY_TOLERANCE:
        diffs.append({"trade": None, "symbol": None, "field": "final_equity",
                      "paper": final_p, "backtest": final_b,
                      "cause": first_any[0][2] if first_any else cause_at("", None)})
    per_symbol = [{
        "symbol": s,
        "paper_trades": sum(1 for t in paper if t["symbol"] == s),
        "backtest_trades": sum(1 for t in back if sym_of(t) == s),
        "paper_pnl": float(sum(t["pnl"] for t in paper if t["symbol"] == s)),
        "backtest_pnl": float(sum(t["pnl"] for t in back if sym_of(t) == s)),
        "differences": sum(1 for d in diffs if d["symbol"] == s)} for s in symbols]
    return {"identical": not diffs, "paper_trades": paper, "backtest_trades": back,
            "differences": diffs, "symbols": per_symbol, "paper_final_equity": final_p,
            "backtest_final_equity": final_b}
