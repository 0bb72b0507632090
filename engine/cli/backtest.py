"""``backtest``, ``sweep`` and ``history`` commands.

``--data`` takes a dataset symbol or a CSV/Parquet path; several symbols separated by commas
run a multi-symbol portfolio backtest (one cash account, ``--max-positions``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli import args as types
from engine.errors import ParameterError

#: Positions a portfolio may hold at once (a ceiling, so no flag asks for unbounded work).
MAX_POSITIONS = 1_000


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True,
                   help="dataset symbol or CSV/Parquet path; A,B,C for a portfolio")
    p.add_argument("--strategy", required=True,
                   help="sma_cross, rsi, macd, bollinger, genome or a promoted strategy's name")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="strategy parameter (repeatable)")
    p.add_argument("--stop-loss", type=types.open_fraction, default=None, metavar="F",
                   help="stop-loss as a fraction of the fill price (0.05 = 5%%)")
    p.add_argument("--take-profit", type=types.open_fraction, default=None, metavar="F",
                   help="take-profit as a fraction of the fill price")
    p.add_argument("--size", type=types.bounded_float(0, 1, lo_open=True, example="0.1"),
                   default=None, metavar="F",
                   help="fraction of equity per trade (default: all-in)")
    p.add_argument("--cash", type=types.cash, default=10_000.0, metavar="N")
    p.add_argument("--commission", type=types.commission, default=0.0, metavar="F",
                   help="fraction of traded value per side (0.001 = 0.1%%)")
    p.add_argument("--short", action="store_true", help="allow short positions")
    p.add_argument("--fractional", action="store_true", help="allow fractional units")
    p.add_argument("--start", default=None, metavar="DATE", help="first bar (inclusive)")
    p.add_argument("--end", default=None, metavar="DATE", help="last bar (inclusive)")
    p.add_argument("--max-positions", type=types.bounded_int(1, MAX_POSITIONS, 5), default=None,
                   metavar="N",
                   help="portfolio: positions open at once")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def register(subparsers) -> None:
    p = subparsers.add_parser("backtest", help="backtest one strategy parameter set")
    _add_common(p)
    p.add_argument("--no-save", action="store_true", help="do not save the run in history")
    p.add_argument("--label", default="", help="a note stored with the run")
    p.add_argument("--trade-start", type=_trade_start, default=None, metavar="DATE",
                   help="ignore signals before DATE (indicators still use every bar)")
    e = p.add_argument_group("ensemble (--strategy ensemble): a weighted vote of strategies")
    e.add_argument("--members", default=None, metavar="S1,S2[,...]",
                   help="the member strategies (built-in or promoted names)")
    e.add_argument("--member-param", action="append", default=[], metavar="S.KEY=VALUE",
                   help="a member's parameter, e.g. sma_cross.fast=10 (repeatable)")
    e.add_argument("--weighting", choices=("equal", "sharpe"), default="equal",
                   help="equal votes, or each member's trailing Sharpe")
    e.add_argument("--window", type=types.bounded_int(2, 10_000, 60), default=60,
                   metavar="N", help="bars of trailing Sharpe (--weighting sharpe)")
    e.add_argument("--threshold", type=types.bounded_float(0, 1, lo_open=True,
                                                           example="0.5"),
                   default=0.5, metavar="F", help="vote needed to act")
    p.set_defaults(func=cmd_backtest)

    s = subparsers.add_parser("sweep", help="backtest a grid of parameters")
    _add_common(s)
    s.add_argument("--grid", action="append", default=[], metavar="KEY=START:STOP[:STEP]",
                   help="a parameter range, both ends included (repeatable)")
    s.add_argument("--sort-by", default="sharpe", help="metric to rank by (default sharpe)")
    s.add_argument("--top", type=types.bounded_int(0, 1_000_000, 10), default=0,
                   help="print only the best N results (0: all)")
    s.set_defaults(func=cmd_sweep)

    h = subparsers.add_parser("history", help="list saved backtests, or show one")
    h.add_argument("run_id", nargs="?", type=types.record_id, help="show this run")
    h.add_argument("--limit", type=types.list_limit, default=20)
    h.add_argument("--json", action="store_true")
    h.set_defaults(func=cmd_history)


def _trade_start(text: str):
    """``--trade-start``: an ISO date or date-time."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; give YYYY-MM-DD (or an ISO date-time)") from None


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["fast=10", "std=2.5"]`` → ``{"fast": "10", "std": "2.5"}`` (strategies coerce)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ParameterError(f"--param {item!r} must look like KEY=VALUE, e.g. fast=10")
        out[key.strip()] = value.strip()
    return out


def _strategy_and_params(args) -> tuple[str, dict[str, Any]]:
    """A built-in strategy, or a promoted one (its genes, overridable with --param)."""
    from engine.backtest.named import resolve_named

    params = parse_params(args.param)
    named = resolve_named(args.strategy)
    if named is None:
        return args.strategy, params
    strategy, stored = named
    return strategy, {**stored, **params}


def _settings(args):
    from engine.backtest import BacktestSettings

    return BacktestSettings(
        cash=args.cash, commission=args.commission, stop_loss=args.stop_loss,
        take_profit=args.take_profit, size=args.size, allow_short=args.short,
        fractional=args.fractional, trade_start=getattr(args, "trade_start", None),
    )


def _load(args):
    from engine.market import load_dataset

    names = [s.strip() for s in args.data.split(",") if s.strip()]
    if not names:
        raise ParameterError("--data is empty; give a symbol (see `data list`) or a file path")
    return {name: load_dataset(name, start=args.start, end=args.end) for name in names}


def _ensemble_members(args) -> list[tuple[str, dict[str, Any]]]:
    """``--members`` with their ``--member-param`` values, as ``backtest_ensemble`` takes."""
    if args.param:
        raise ParameterError("--param sets a single strategy's parameter; for an ensemble "
                             "give --member-param MEMBER.KEY=VALUE, e.g. sma_cross.fast=10")
    names = [m.strip() for m in (args.members or "").split(",") if m.strip()]
    if len(names) < 2:
        raise ParameterError("--strategy ensemble needs at least two --members, e.g. "
                             "--members sma_cross,rsi")
    if len(set(names)) != len(names):
        raise ParameterError(f"--members names a strategy twice ({args.members}); promote a "
                             "variant under its own name to vote with both")
    params: dict[str, dict[str, Any]] = {n: {} for n in names}
    for item in args.member_param:
        member, dot, rest = item.partition(".")
        if not dot or member.strip() not in params:
            raise ParameterError(f"--member-param {item!r} must look like MEMBER.KEY=VALUE "
                                 f"with MEMBER one of {', '.join(names)}")
        params[member.strip()].update(parse_params([rest]))
    return [(n, params[n]) for n in names]


def _ensemble_result(args, frames, settings):
    from engine.paper import backtest_ensemble

    if len(frames) != 1 or args.max_positions is not None:
        raise ParameterError("an ensemble backtest runs on one dataset; give a single --data "
                             "symbol (and no --max-positions)")
    return backtest_ensemble(next(iter(frames.values())), _ensemble_members(args), settings,
                             weighting=args.weighting, window=args.window,
                             threshold=args.threshold)


def cmd_backtest(args) -> int:
    from engine.backtest import run_backtest, run_portfolio
    from engine.backtest.history import save_run
    from engine.cli import print_json
    from engine.market import dataset_fingerprint

    frames = _load(args)
    settings = _settings(args)
    if args.strategy == "ensemble" or args.members or args.member_param:
        if args.strategy != "ensemble":
            raise ParameterError("--members and --member-param go with --strategy ensemble")
        result = _ensemble_result(args, frames, settings)
    elif len(frames) == 1 and args.max_positions is None:
        strategy, params = _strategy_and_params(args)
        result = run_backtest(next(iter(frames.values())), strategy, params, settings)
    else:
        strategy, params = _strategy_and_params(args)
        if settings.trade_start is not None:
            raise ParameterError("--trade-start runs on one dataset; give a single --data "
                                 "symbol (or drop --max-positions)")
        result = run_portfolio(frames, strategy, params, settings,
                               max_positions=args.max_positions)
    doc = result.to_dict()
    doc["symbols"] = list(frames)
    if not args.no_save:
        ts = result.equity.get_column("timestamp")
        doc["run_id"] = save_run(
            result, ",".join(frames), start=ts[0], end=ts[-1],
            fingerprint="+".join(dataset_fingerprint(df) for df in frames.values()),
            label=args.label,
        )
    if args.json:
        print_json(doc)
    else:
        _print_metrics(doc["metrics"])
        print(f"{len(doc['trades'])} trades" +
              (f"; saved as run {doc['run_id']}" if "run_id" in doc else ""))
    return 0


def cmd_sweep(args) -> int:
    from engine.backtest import parse_grid, sweep
    from engine.cli import print_json, stderr_progress

    frames = _load(args)
    if len(frames) != 1:
        raise ParameterError("sweep runs on one dataset; give a single --data symbol or path")
    data = next(iter(frames.values()))
    grid = dict(parse_grid(g) for g in args.grid)
    progress = None if args.json or not sys.stderr.isatty() else stderr_progress
    strategy, params = _strategy_and_params(args)
    result = sweep(data, strategy, grid, _settings(args), base_params=params,
                   sort_by=args.sort_by, on_progress=progress)
    doc = result.to_dict()
    if args.top > 0:
        doc["results"] = doc["results"][: args.top]
    if args.json:
        print_json(doc)
    else:
        print(f"{doc['n_backtests']} backtests in {doc['seconds']:.3f}s "
              f"({doc['backtests_per_second']:.0f}/s); best by {args.sort_by}:")
        for r in doc["results"][: args.top or 10]:
            m = r["metrics"]
            print(f"  {r['params']}  {args.sort_by}={m[args.sort_by]:.4g} "
                  f"return={m['total_return_pct']:.2f}% trades={m['n_trades']}")
    return 0


def cmd_history(args) -> int:
    from engine.backtest.history import get_run, list_runs
    from engine.cli import print_json

    if args.run_id is not None:
        row = get_run(args.run_id)
        doc = row.model_dump(mode="json")
        if args.json:
            print_json(doc)
        else:
            print(f"run {row.id}: {row.strategy} on {row.symbols} {row.params}")
            _print_metrics(row.metrics)
        return 0
    runs = list_runs(args.limit)
    if args.json:
        print_json([r.__dict__ for r in runs])
    else:
        for r in runs:
            ret = r.total_return_pct if r.total_return_pct is not None else float("nan")
            print(f"{r.id:5d}  {r.created_at:%Y-%m-%d %H:%M}  {r.strategy:10s} {r.symbols:20s} "
                  f"return={ret:8.2f}%"
                  f"  sharpe={r.sharpe if r.sharpe is not None else float('nan'):6.3f}")
    return 0


def _print_metrics(metrics: dict[str, Any]) -> None:
    for k, v in metrics.items():
        print(f"  {k:28s} {v:,.4f}" if isinstance(v, float) else f"  {k:28s} {v}")
