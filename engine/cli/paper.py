"""``paper`` commands: the paper-trading desk (books of sleeves trading forward bar by bar).

::

    python -m engine paper create BOOK [--cash 100000] [--commission F] [--start DATE]
           [--max-positions N] [--max-position-size F] [--daily-loss-limit USD|none]
           [--correlation-limit F|none] [--breaker on|off] --json
    python -m engine paper add BOOK SLEEVE --symbols A[,B] [--allocation F]
           (--strategy NAME [--param K=V ...] [--stop-loss F] [--take-profit F] [--size F]
            [--short] | --model VERSION | --analyst [--provider offline|anthropic]
            [--every N] | --ensemble S1,S2 [--weighting equal|sharpe]) --json
    python -m engine paper step BOOK (--to DATE | --bars N) --json
    python -m engine paper refresh [BOOK] --json     # live: download, then step
    python -m engine paper live BOOK on|off --json   # the scheduled daily refresh
    python -m engine paper status|trades [--sleeve S]|events|list BOOK --json
    python -m engine paper pause|resume BOOK SLEEVE
    python -m engine paper reconcile BOOK SLEEVE --json

Numeric options are parsed with the shared rules of :mod:`engine.cli.args` (finite, in
range; the error names the rule and a fix); their table is in docs/paper.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli import args as types
from engine.errors import ParameterError


def _typed(kind: Any, none_word: bool = False):
    """An argparse type applying ``kind`` (an ``engine.cli.args`` rule); ``none`` → None."""

    def parse(text: str):
        if none_word and str(text).strip().lower() in ("none", "off"):
            return None
        return kind(text)

    parse.__name__ = getattr(kind, "rule", "value")
    return parse


def _on_off(text: str) -> bool:
    t = str(text).strip().lower()
    if t in ("on", "true", "yes", "1"):
        return True
    if t in ("off", "false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not valid: give on or off")


def _date(text: str):
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; give YYYY-MM-DD (or an ISO date-time)") from None


def register(subparsers) -> None:
    p = subparsers.add_parser("paper", help="paper-trading books: create, add, step, status")
    sub = p.add_subparsers(dest="paper_command", required=True, parser_class=type(p))

    c = sub.add_parser("create", help="create a paper book (defaults: the seed's limits)")
    c.add_argument("book")
    c.add_argument("--cash", type=_typed(types.cash), default=100_000.0, metavar="N")
    c.add_argument("--commission", type=_typed(types.commission), default=0.0, metavar="F")
    c.add_argument("--start", type=_date, default=None, metavar="DATE",
                   help="first bar the book trades (earlier bars are warm-up)")
    c.add_argument("--max-positions", type=_typed(types.bounded_int(1, 1000, 10)), default=10,
                   metavar="N", help="positions open at once, book-wide")
    c.add_argument("--max-position-size",
                   type=_typed(types.bounded_float(0, 1, lo_open=True, example="0.1")),
                   default=0.1, metavar="F", help="an entry's notional / book equity")
    c.add_argument("--daily-loss-limit", type=_typed(types.positive_float, none_word=True),
                   default=1000.0, metavar="USD|none",
                   help="no new entry once the day's loss reaches it")
    c.add_argument("--correlation-limit",
                   type=_typed(types.bounded_float(-1, 1, example="0.8"), none_word=True),
                   default=0.8, metavar="F|none")
    c.add_argument("--correlation-window", type=_typed(types.bounded_int(2, 10_000, 60)),
                   default=60, metavar="N", help="bars of returns the correlation uses")
    c.add_argument("--correlation-action", choices=("refuse", "halve"), default="refuse")
    c.add_argument("--breaker", type=_on_off, default=True, metavar="on|off",
                   help="circuit breaker for poor performance")
    c.add_argument("--fractional", action="store_true", help="allow fractional units")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_create)

    a = sub.add_parser("add", help="add a sleeve (strategy, model or ensemble) to a book")
    a.add_argument("book")
    a.add_argument("sleeve")
    a.add_argument("--symbols", required=True, metavar="A[,B]")
    a.add_argument("--allocation", type=_typed(types.bounded_float(0, 1, lo_open=True,
                                                                   example="0.5")),
                   default=1.0, metavar="F", help="fraction of the book's starting cash")
    kind = a.add_mutually_exclusive_group(required=True)
    kind.add_argument("--strategy", metavar="NAME")
    kind.add_argument("--model", metavar="VERSION")
    kind.add_argument("--ensemble", metavar="S1,S2")
    kind.add_argument("--analyst", action="store_true",
                      help="the AI analyst, asked every N bars per symbol")
    a.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    a.add_argument("--stop-loss", type=_typed(types.open_fraction), default=None, metavar="F")
    a.add_argument("--take-profit", type=_typed(types.open_fraction), default=None,
                   metavar="F")
    a.add_argument("--size", type=_typed(types.bounded_float(0, 1, lo_open=True,
                                                             example="0.1")),
                   default=None, metavar="F")
    a.add_argument("--short", action="store_true")
    a.add_argument("--weighting", choices=("equal", "sharpe"), default="equal")
    a.add_argument("--window", type=_typed(types.bounded_int(2, 10_000, 60)), default=60,
                   metavar="N", help="ensemble: bars of trailing Sharpe")
    a.add_argument("--threshold", type=_typed(types.bounded_float(0, 1, lo_open=True,
                                                                  example="0.5")),
                   default=0.5, metavar="F", help="ensemble: vote needed to act")
    a.add_argument("--provider", choices=("offline", "anthropic"), default="offline",
                   help="analyst: the offline rule analyst (free) or Claude")
    a.add_argument("--every", type=_typed(types.bounded_int(1, 10_000, 5)), default=5,
                   metavar="N", help="analyst: bars between decisions, per symbol")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_add)

    s = sub.add_parser("step", help="replay stored bars from the book's clock")
    s.add_argument("book")
    how = s.add_mutually_exclusive_group(required=True)
    how.add_argument("--to", metavar="DATE")
    how.add_argument("--bars", type=_typed(types.bounded_int(1, 10_000_000, 20)), metavar="N")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_step)

    for name, fn, hlp in (("status", cmd_status, "cash, equity, sleeves and positions"),
                          ("events", cmd_events, "risk events"),
                          ("equity", cmd_equity, "equity per bar (book and sleeves)")):
        q = sub.add_parser(name, help=hlp)
        q.add_argument("book")
        q.add_argument("--json", action="store_true")
        q.set_defaults(func=fn)
    t = sub.add_parser("trades", help="the book's trades (the backtest's keys + sleeve, symbol)")
    t.add_argument("book")
    t.add_argument("--sleeve", default=None)
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_trades)
    rf = sub.add_parser("refresh", help="live: download new bars, then step the book(s)")
    rf.add_argument("book", nargs="?", default=None)
    rf.add_argument("--json", action="store_true")
    rf.set_defaults(func=cmd_refresh)
    lv = sub.add_parser("live", help="turn a book's live schedule (daily download + step) "
                        "on or off")
    lv.add_argument("book")
    lv.add_argument("state", type=_on_off, metavar="on|off")
    lv.add_argument("--json", action="store_true")
    lv.set_defaults(func=cmd_live)
    lst = sub.add_parser("list", help="the books")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    for name, fn in (("pause", cmd_pause), ("resume", cmd_resume)):
        q = sub.add_parser(name, help=f"{name} a sleeve")
        q.add_argument("book")
        q.add_argument("sleeve")
        if name == "pause":
            q.add_argument("--reason", default="")
        q.add_argument("--json", action="store_true")
        q.set_defaults(func=fn)
    r = sub.add_parser("reconcile", help="a sleeve's trades against its backtest")
    r.add_argument("book")
    r.add_argument("sleeve")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_reconcile)


def _out(args, doc: Any, text: str) -> int:
    from engine.cli import print_json

    if args.json:
        print_json(doc)
    else:
        print(text)
    return 0


def cmd_create(args) -> int:
    from engine.paper import BookSettings, book_status, create_book
    from engine.risk import BookLimits

    limits = BookLimits(args.max_positions, args.max_position_size, args.daily_loss_limit,
                        args.correlation_limit, args.correlation_window,
                        args.correlation_action)
    book = create_book(args.book, BookSettings(cash=args.cash, commission=args.commission,
                                               start=args.start, limits=limits,
                                               breaker=args.breaker,
                                               fractional=args.fractional))
    return _out(args, book_status(book.name), f"book {book.name} created with "
                f"{book.cash0:,.2f} USD")


def cmd_add(args) -> int:
    from engine.cli.backtest import parse_params
    from engine.paper import add_sleeve

    common = {"stop_loss": args.stop_loss, "take_profit": args.take_profit, "size": args.size,
              "short": args.short}
    if args.analyst:
        kind, config = "analyst", {"provider": args.provider, "every": args.every, **common}
    elif args.strategy:
        kind, config = "strategy", {"strategy": args.strategy,
                                    "params": parse_params(args.param), **common}
    elif args.model:
        if args.short:
            raise ParameterError("model sleeves trade long only; drop --short")
        kind, config = "model", {"version": args.model, **common}
    else:
        members = [m.strip() for m in args.ensemble.split(",") if m.strip()]
        kind, config = "ensemble", {"members": members, "weighting": args.weighting,
                                    "window": args.window, "threshold": args.threshold,
                                    **common}
    if args.param and kind != "strategy":
        raise ParameterError("--param applies to --strategy sleeves only")
    sl = add_sleeve(args.book, args.sleeve, kind, args.symbols.split(","), config,
                    args.allocation)
    doc = {"book": args.book, "sleeve": sl.name, "kind": sl.kind, "symbols": sl.symbols,
           "allocation": sl.allocation, "cash": sl.cash0,
           "start": sl.start.isoformat() if sl.start else None, "config": sl.config}
    return _out(args, doc, f"sleeve {sl.name} ({sl.kind}) added to {args.book}")


def cmd_step(args) -> int:
    from engine.cli import stderr_progress
    from engine.paper import step_book

    progress = None if args.json or not sys.stderr.isatty() else stderr_progress
    res = step_book(args.book, to=args.to, bars=args.bars, on_progress=progress)
    d = res.to_dict()
    return _out(args, d, f"{d['bars']} bars processed; clock {d['clock']}; "
                f"equity {d['equity']:,.2f}")


def cmd_status(args) -> int:
    from engine.paper import book_status

    d = book_status(args.book)
    lines = [f"book {d['book']}  clock {d['clock']}  cash {d['cash']:,.2f}  "
             f"equity {d['equity']:,.2f}"]
    lines += [f"  {s['name']:16s} {s['kind']:9s} {s['status']:7s} equity {s['equity']:,.2f} "
              f"trades {s['n_trades']}" + (f"  ({s['paused_reason']})" if s["paused_reason"]
                                           else "") for s in d["sleeves"]]
    lines += [f"  position {p['sleeve']}:{p['symbol']} {p['size']:g} @ {p['entry_price']:g}"
              for p in d["positions"]]
    return _out(args, d, "\n".join(lines))


def cmd_trades(args) -> int:
    from engine.paper import book_trades

    rows = book_trades(args.book, args.sleeve)
    return _out(args, rows, "\n".join(
        f"{r['sleeve']}:{r['symbol']} {r['entry_time']} → {r['exit_time']} size {r['size']:g} "
        f"pnl {r['pnl']:,.2f} ({r['exit_reason']})" for r in rows) or "no trades")


def cmd_events(args) -> int:
    from engine.paper import book_events

    rows = book_events(args.book)
    return _out(args, rows, "\n".join(f"{e['time']} {e['sleeve']} {e['symbol']} {e['rule']} "
                                      f"{e['action']} {e['detail']}" for e in rows)
                or "no risk events")


def cmd_equity(args) -> int:
    from engine.paper import book_equity

    d = book_equity(args.book)
    return _out(args, d, f"{len(d['time'])} bars; last equity "
                f"{d['equity'][-1] if d['equity'] else float('nan'):,.2f}")


def cmd_refresh(args) -> int:
    from engine.paper import refresh

    d = refresh(args.book)
    return _out(args, d, "\n".join(f"{b['book']}: {b['bars']} bars; clock {b['clock']}"
                                   for b in d["books"]) or "no books to step")


def cmd_live(args) -> int:
    from engine.paper.schedule import LIVE_JOB_ID, set_live
    from engine.scheduler import editing

    with editing() as sched:  # edits the job store; this process never runs the job
        books = set_live(args.book, args.state, scheduler=sched)
        job = sched.get_job(LIVE_JOB_ID)
        nxt = job.next_run_time.isoformat() if job is not None and job.next_run_time else None
    doc = {"book": args.book, "live": args.book in books, "live_books": books,
           "job": LIVE_JOB_ID if books else None, "next_run_time": nxt}
    return _out(args, doc, f"{args.book}: live schedule {'on' if doc['live'] else 'off'}"
                + (f"; next run {nxt}" if nxt else ""))


def cmd_list(args) -> int:
    from engine.paper import list_books

    books = [{"book": b.name, "clock": b.clock.isoformat() if b.clock else None,
              "cash0": b.cash0} for b in list_books()]
    return _out(args, books, "\n".join(f"{b['book']}  clock {b['clock']}" for b in books)
                or "no books")


def cmd_pause(args) -> int:
    from engine.paper import pause_sleeve

    sl = pause_sleeve(args.book, args.sleeve, args.reason)
    return _out(args, {"sleeve": sl.name, "status": sl.status,
                       "paused_reason": sl.paused_reason}, f"{sl.name} paused")


def cmd_resume(args) -> int:
    from engine.paper import resume_sleeve

    sl = resume_sleeve(args.book, args.sleeve)
    return _out(args, {"sleeve": sl.name, "status": sl.status, "paused_reason": None},
                f"{sl.name} resumed")


def cmd_reconcile(args) -> int:
    from engine.paper import reconcile

    d = reconcile(args.book, args.sleeve)
    text = ("identical: the paper trades equal the backtest's" if d["identical"] else
            "\n".join(f"trade {x['trade']} {x['field']}: paper {x['paper']} backtest "
                      f"{x['backtest']} — {x['cause']}" for x in d["differences"]))
    return _out(args, d, text)
