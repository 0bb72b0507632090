"""``walkforward`` command: rolling re-optimisation, traded out of sample and stitched.

Runs in this process (never through the app's scheduler); an analysis killed midway is
resumed with ``--resume ID`` and keeps every window it finished.
"""

from __future__ import annotations

import sys
from typing import Any

from engine.cli import args as types
from engine.errors import ParameterError

#: The bounds of engine.walkforward.config (repeated so --help does not import the engine;
#: tests/walkforward/test_cli.py keeps them equal).
MAX_WINDOWS, MIN_IS_BARS, MIN_OOS_BARS = 200, 30, 10


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "walkforward", help="walk-forward analysis: evolve in sample, trade out of sample")
    p.add_argument("--data", help="dataset symbol or CSV/Parquet path (one dataset)")
    p.add_argument("--windows", type=types.bounded_int(1, MAX_WINDOWS, 5), default=None,
                   metavar="K", help="in-sample/out-of-sample window pairs")
    p.add_argument("--is-bars", type=types.bounded_int(MIN_IS_BARS, 10_000_000, 500),
                   default=None, metavar="N", help="bars per in-sample window")
    p.add_argument("--oos-bars", type=types.bounded_int(MIN_OOS_BARS, 10_000_000, 100),
                   default=None, metavar="M", help="bars per out-of-sample window")
    p.add_argument("--anchored", action="store_true",
                   help="in-sample windows all start at the first bar (they grow)")
    p.add_argument("--population", type=types.bounded_int(4, 100_000, 50), default=None,
                   help="population size of each window's evolution (default 50)")
    p.add_argument("--generations", type=types.bounded_int(0, 100_000, 30), default=None,
                   help="generations of each window's evolution (default 30)")
    p.add_argument("--seed", type=types.seed, default=None,
                   help="seed of window 0 (window k uses seed + k)")
    p.add_argument("--fitness", default=None, help="fitness name or module:function")
    p.add_argument("--threshold", type=types.threshold_or_none, default=None,
                   help="stop a window's evolution once the best fitness reaches this")
    p.add_argument("--backend", choices=["inline", "process", "ray"], default=None,
                   help="where windows run: here, in parallel processes, or on Ray")
    p.add_argument("--workers", type=types.bounded_int(1, 1024, 2), default=None,
                   help="windows evolved at once (default: one per core)")
    p.add_argument("--start", default=None, metavar="DATE", help="first bar (inclusive)")
    p.add_argument("--end", default=None, metavar="DATE", help="last bar (inclusive)")
    p.add_argument("--cash", type=types.cash, default=None, metavar="N")
    p.add_argument("--commission", type=types.commission, default=None, metavar="F")
    p.add_argument("--short", action="store_true", help="allow short positions")
    p.add_argument("--resume", type=types.record_id, default=None, metavar="ID",
                   help="continue analysis ID (its finished windows are kept)")
    p.add_argument("--show", type=types.record_id, default=None, metavar="ID",
                   help="print a stored analysis")
    p.add_argument("--list", action="store_true", help="list the stored analyses")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_walkforward)


_NEW_ONLY = ("data", "windows", "is_bars", "oos_bars", "population", "generations", "seed",
             "fitness", "threshold", "backend", "workers", "start", "end", "cash",
             "commission")


def _config(args) -> dict[str, Any]:
    missing = [f"--{n.replace('_', '-')}" for n in ("data", "windows", "is_bars", "oos_bars")
               if getattr(args, n) is None]
    if missing:
        raise ParameterError(
            f"walkforward needs {', '.join(missing)}: e.g. `walkforward --data SP500 "
            "--windows 5 --is-bars 1000 --oos-bars 250` (or --resume ID)")
    pairs = {"symbol": args.data, "windows": args.windows, "is_bars": args.is_bars,
             "oos_bars": args.oos_bars, "anchored": args.anchored,
             "population_size": args.population, "generations": args.generations,
             "seed": args.seed, "fitness": args.fitness, "backend": args.backend,
             "workers": args.workers, "start": args.start, "end": args.end,
             "cash": args.cash, "commission": args.commission, "allow_short": args.short}
    out = {k: v for k, v in pairs.items() if v is not None}
    if args.threshold is not None:
        out["fitness_threshold"] = None if args.threshold in ("none", "off") else args.threshold
    return out


def cmd_walkforward(args) -> int:
    from engine.cli import print_json, stderr_progress
    from engine.walkforward import (
        WalkForwardConfig,
        create_analysis,
        document,
        get_analysis,
        list_analyses,
        run_analysis,
    )

    if args.list:
        rows = [{"analysis_id": a.id, "symbol": a.symbol, "status": a.status,
                 "windows_done": a.windows_done, "n_windows": a.n_windows,
                 "efficiency": (a.result or {}).get("efficiency"),
                 "created_at": a.created_at.isoformat()} for a in list_analyses()]
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                print(f"{r['analysis_id']:5d}  {r['symbol']:12s} {r['status']:12s} "
                      f"{r['windows_done']}/{r['n_windows']} windows")
        return 0
    if args.show is not None:
        _print(document(get_analysis(args.show)), args.json)
        return 0
    progress = None if args.json or not sys.stderr.isatty() else stderr_progress
    if args.resume is not None:
        given = [f"--{n.replace('_', '-')}" for n in _NEW_ONLY if getattr(args, n) is not None]
        if given or args.anchored or args.short:
            raise ParameterError(f"--resume continues analysis {args.resume} with its stored "
                                 f"settings; drop {', '.join(given) or '--anchored/--short'}")
        info = run_analysis(args.resume, on_progress=progress)
    else:
        cfg = WalkForwardConfig(**_config(args))
        info = run_analysis(create_analysis(cfg), on_progress=progress)
    _print(document(info), args.json)
    return 0


def _fmt(v: Any, spec: str = ".2f") -> str:
    return "n/a" if v is None else format(v, spec)


def _print(doc: dict[str, Any], as_json: bool) -> None:
    from engine.cli import print_json

    if as_json:
        print_json(doc)
        return
    print(f"walk-forward analysis {doc['analysis_id']} on {doc['symbol']}: {doc['status']}"
          f"{' (anchored)' if doc['anchored'] else ''}")
    for w in doc["windows"]:
        ins, oos = w.get("in_sample") or {}, w.get("out_of_sample") or {}
        print(f"  window {w['window']}: in-sample {w['is_start'][:10]}..{w['is_end'][:10]} "
              f"CAGR {_fmt(ins.get('cagr_pct'))}% | out-of-sample {w['oos_start'][:10]}.."
              f"{w['oos_end'][:10]} CAGR {_fmt(oos.get('cagr_pct'))}% "
              f"sharpe {_fmt(oos.get('sharpe'), '.3f')} | efficiency "
              f"{_fmt(w.get('efficiency'), '.3f')}")
    st = doc.get("stitched")
    if st:
        m = st["metrics"]
        print(f"  stitched {st['start'][:10]}..{st['end'][:10]} ({st['bars']} bars): return "
              f"{_fmt(m.get('total_return_pct'))}%, CAGR {_fmt(m.get('cagr_pct'))}%, sharpe "
              f"{_fmt(m.get('sharpe'), '.3f')}, max drawdown "
              f"{_fmt(m.get('max_drawdown_pct'))}%, buy-and-hold "
              f"{_fmt(m.get('buy_hold_return_pct'))}%")
        gs = doc.get("gene_stability") or {}
        print(f"  walk-forward efficiency {_fmt(doc.get('efficiency'), '.3f')}; gene "
              f"dispersion {_fmt(gs.get('mean_dispersion'), '.3f')} (0 = same genes in every "
              "window, 1 = as scattered as random)")
