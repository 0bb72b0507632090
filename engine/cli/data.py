"""``python -m engine data …``: list, import, download, show and rebuild market datasets.

Every subcommand prints a short human summary, or one JSON document with ``--json``;
problems raise engine errors, which the CLI frame prints as one line (exit 2).
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.cli import print_json


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("data", help="market datasets: list, import, download, show")
    sub = p.add_subparsers(dest="data_command", required=True)

    q = sub.add_parser("list", help="list the datasets the lab knows")
    q.add_argument("--json", action="store_true", help="print a JSON list")
    q.set_defaults(func=cmd_list)

    q = sub.add_parser("import", help="import a CSV or Parquet file as a dataset")
    q.add_argument("path", help="CSV or Parquet file with timestamp/date, "
                                "open, high, low, close[, volume]")
    q.add_argument("--symbol", required=True, help="symbol to store it under, e.g. AAPL")
    q.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    q.add_argument("--json", action="store_true", help="print the import report as JSON")
    q.set_defaults(func=cmd_import)

    q = sub.add_parser("download", help="download daily bars from Yahoo Finance (needs yfinance)")
    q.add_argument("symbol", help="Yahoo symbol, e.g. AAPL, BTC-USD, ^GSPC")
    q.add_argument("--start", help="first day, YYYY-MM-DD (default: all history)")
    q.add_argument("--end", help="last day, YYYY-MM-DD, included (default: today)")
    q.add_argument("--interval", default="1d", help="bar interval (default 1d)")
    q.add_argument("--overwrite", action="store_true", help="replace an imported dataset")
    q.add_argument("--json", action="store_true", help="print the import report as JSON")
    q.set_defaults(func=cmd_download)

    q = sub.add_parser("show", help="data quality summary and current regime of a dataset")
    q.add_argument("symbol", help="a symbol from `data list` or a path to a CSV/Parquet file")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=cmd_show)

    q = sub.add_parser("samples", help="list or rebuild the bundled samples (real and synthetic)")
    q.add_argument("--rebuild", action="store_true",
                   help="regenerate data/samples/ offline (real from arch, synthetic from seeds)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=cmd_samples)


def _fmt_time(v: Any) -> str:
    return v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else (str(v)[:10] if v else "-")


def _print_report(rep: dict[str, Any], verb: str) -> None:
    print(f"{verb} {rep['symbol']}: {rep['rows']} rows kept of {rep['source_rows']} "
          f"({_fmt_time(rep['start'])} to {_fmt_time(rep['end'])}, timeframe {rep['timeframe']})")
    if rep["rejected"]:
        print(f"rejected {rep['rejected']} rows:")
        for reason, n in rep["rejected_by_reason"].items():
            print(f"  {n:>7}  {reason}")
        for ex in rep["examples"][:5]:
            print(f"  e.g. row {ex['row']}: {ex['reason']}")
    else:
        print("rejected 0 rows")
    if rep["n_gaps"]:
        print(f"gaps: {rep['n_gaps']} ({rep['missing_bars']} missing bars)")
        for g in rep["gaps"][:5]:
            print(f"  {_fmt_time(g['after'])} -> {_fmt_time(g['before'])}: "
                  f"{g['missing_bars']} bars")
    else:
        print("gaps: none")
    for w in rep["warnings"]:
        print(f"warning: {w}")


def cmd_list(args: argparse.Namespace) -> int:
    from engine.market import list_datasets

    infos = list_datasets()
    if args.json:
        print_json([{k: v for k, v in i.to_dict().items() if k != "report"} for i in infos])
        return 0
    print(f"{'symbol':<16}{'source':<10}{'tf':<6}{'rows':>8}  {'start':<11}{'end':<11}"
          f"{'rejected':>9}  synthetic")
    for i in infos:
        print(f"{i.symbol:<16}{i.source:<10}{i.timeframe:<6}{i.n_rows:>8}  {_fmt_time(i.start):<11}"
              f"{_fmt_time(i.end):<11}{i.n_rejected:>9}  {'yes' if i.synthetic else 'no'}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from engine.market import import_file

    rep = import_file(args.path, args.symbol, overwrite=args.overwrite).to_dict()
    if args.json:
        print_json(rep)
    else:
        _print_report(rep, "imported")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from engine.market import download

    rep = download(args.symbol, start=args.start, end=args.end, interval=args.interval,
                   overwrite=args.overwrite).to_dict()
    if args.json:
        print_json(rep)
    else:
        _print_report(rep, "downloaded")
    return 0


def show_summary(symbol_or_path: str) -> dict[str, Any]:
    """The quality summary ``data show`` prints (catalogue entry, report, current regime)."""
    from engine.market import current_regime, dataset_fingerprint, load_dataset
    from engine.market.store import looks_like_path
    from engine.market.validation import read_file, validate_frame

    if looks_like_path(symbol_or_path):
        frame, rep = validate_frame(read_file(symbol_or_path), symbol=symbol_or_path)
        info: dict[str, Any] = {"symbol": symbol_or_path, "source": "file", "synthetic": False,
                                "description": "", "report": rep.to_dict()}
    else:
        from engine.market import get_dataset_info

        info = get_dataset_info(symbol_or_path).to_dict()
        frame = load_dataset(info["symbol"])
    rep = info.pop("report") or {}
    last = frame.tail(1).row(0, named=True)
    return {
        **info,
        "rows": frame.height,
        "start": frame["timestamp"][0].isoformat(),
        "end": frame["timestamp"][-1].isoformat(),
        "timeframe": rep.get("timeframe", info.get("timeframe")),
        "rejected": rep.get("rejected", 0),
        "rejected_by_reason": rep.get("rejected_by_reason", {}),
        "n_gaps": rep.get("n_gaps", 0),
        "missing_bars": rep.get("missing_bars", 0),
        "gaps": rep.get("gaps", [])[:10],
        "last_close": last["close"],
        "current_regime": current_regime(frame),
        "fingerprint": dataset_fingerprint(frame),
    }


def cmd_show(args: argparse.Namespace) -> int:
    s = show_summary(args.symbol)
    if args.json:
        print_json(s)
        return 0
    tag = " (synthetic)" if s.get("synthetic") else ""
    print(f"{s['symbol']}{tag}: {s.get('description', '')}")
    print(f"  source {s['source']}, {s['rows']} bars {s['timeframe']}, "
          f"{_fmt_time(s['start'])} to {_fmt_time(s['end'])}, last close {s['last_close']:.4f}")
    print(f"  rejected at import: {s['rejected']}"
          + ("" if not s["rejected_by_reason"] else " (" + ", ".join(
              f"{k}: {v}" for k, v in s["rejected_by_reason"].items()) + ")"))
    print(f"  gaps: {s['n_gaps']} ({s['missing_bars']} missing bars)")
    print(f"  current regime: {s['current_regime']}")
    print(f"  fingerprint: {s['fingerprint']}")
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    from engine.market.samples import build_samples, read_manifest

    entries = build_samples() if args.rebuild else read_manifest()
    if args.json:
        print_json([{k: e[k] for k in ("symbol", "description", "seed", "synthetic", "n_bars",
                                       "fingerprint", "source", "licence") if k in e}
                    for e in entries])
        return 0
    n_real = sum(1 for e in entries if not e.get("synthetic", True))
    print(("rebuilt" if args.rebuild else "bundled") + f" {len(entries)} samples "
          f"({n_real} real, {len(entries) - n_real} synthetic):")
    for e in entries:
        origin = f"seed {e['seed']:<10}" if "seed" in e else f"real, {e.get('source', '')};"
        print(f"  {e['symbol']:<14} {origin} {e['n_bars']} bars  {e.get('fingerprint', '')}")
        if e.get("licence"):
            print(f"  {'':<14} licence: {e['licence']}")
    return 0
