"""``python -m engine analyze | screen | replay | costs | accuracy`` — the LLM analyst.

- ``analyze SYM [--as-of DATE] [--consensus] [--blind] [--provider auto|offline|anthropic]
  --json`` prints ``{"symbol", "as_of", "provider", "models", "decision": {seed keys},
  "regime", "risk": {"approved", "reasons"}, "cost_usd", "cached", "blind",
  "training_cutoff", "in_training_window", …}``; exit 1 when no decision could be obtained
  (the document then has ``decision: null`` and ``error``). ``--blind`` shows the model no
  symbol, no dates and prices rebased to 100 (levels are mapped back).
- ``screen SYM... [--as-of DATE] [--batch] [--no-escalate] --json`` prints
  ``{"provider", "rows": [{"rank", "symbol", "decision", "confidence", "tier", …}],
  "cost_usd"}``.
- ``replay SYM --start D --end D --every N [--consensus] [--max-cost USD]
  [--blind | --no-blind] [--paired] --json`` prints ``{"estimate", "n_decisions",
  "accuracy", "win_rate", "pnl_usd", "cost_usd", "decisions": […], "replay_id", "arms",
  "blind", "warning", "by_arm", "training_window", "uncertainty", "paired", "control",
  "comparison"}``; the estimate (and the look-ahead warning when decisions lie before the
  models' training cutoff) goes to stderr first, and ``--max-cost`` refuses a replay whose
  worst-case cost is higher. On Claude a replay is blind unless ``--no-blind``;
  ``--paired`` runs named and blind decisions for the same dates.
- ``costs --json`` prints ``{"today_usd", "month_usd", "daily_limit_usd",
  "monthly_limit_usd", "calls", "cache_hit_rate", "anomalies", …}``; ``costs
  --acknowledge`` marks every pending usage anomaly seen (paid calls may run again) and
  prints how many (``"acknowledged"`` in the JSON).
- ``accuracy [--no-fill] --json`` scores due outcomes, then prints the accuracy
  report, with ``training_window`` (inside / outside / no_cutoff), ``arms``,
  ``arms_by_window``, ``paired`` and ``uncertainty``.

The API key is read from ``ANTHROPIC_API_KEY`` only.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli import args as types
from engine.cli import print_json, stderr_progress


def register(subparsers: Any) -> None:
    prov = {"choices": ["auto", "offline", "anthropic"], "default": "auto",
            "help": "offline rules, Claude (needs ANTHROPIC_API_KEY) or auto (default)"}

    p = subparsers.add_parser("analyze", help="AI analysis of one symbol (Claude or offline)")
    p.add_argument("symbol")
    p.add_argument("--as-of", dest="as_of", help="analyse as of this date (default: last bar)")
    p.add_argument("--consensus", action="store_true", help="several models + contrarian")
    p.add_argument("--provider", **prov)
    p.add_argument("--prompt", default="master_analyst",
                   help="decision prompt for a single analysis (default master_analyst)")
    p.add_argument("--blind", action="store_true",
                   help="no symbol, no dates, prices rebased to 100 (a look-ahead control)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=cmd_analyze)

    p = subparsers.add_parser("screen", help="screen symbols cheaply, escalate the promising")
    p.add_argument("symbols", nargs="+")
    p.add_argument("--as-of", dest="as_of")
    p.add_argument("--batch", action="store_true", help="Message Batches API (half price)")
    p.add_argument("--no-escalate", dest="escalate", action="store_false")
    p.add_argument("--provider", **prov)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_screen)

    p = subparsers.add_parser("replay", help="replay the analyst over a past period")
    p.add_argument("symbol")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--every", type=types.bounded_int(1, 100_000, 5), default=5,
                   help="one decision every N bars (default 5)")
    p.add_argument("--consensus", action="store_true")
    p.add_argument("--max-cost", dest="max_cost", type=types.non_negative_float,
                   help="refuse when the worst-case cost estimate is above this (USD)")
    p.add_argument("--blind", action=argparse.BooleanOptionalAction, default=None,
                   help="hide the symbol and dates, rebase prices (default: on for Claude, "
                        "off offline)")
    p.add_argument("--paired", action="store_true",
                   help="named and blind decisions for the same dates (agreement, gap)")
    p.add_argument("--provider", **prov)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_replay)

    p = subparsers.add_parser("costs", help="LLM spend against the daily and monthly limits")
    p.add_argument("--acknowledge", action="store_true",
                   help="acknowledge the pending usage anomalies, so paid calls run again")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_costs)

    p = subparsers.add_parser("accuracy", help="accuracy and P&L of recorded AI decisions")
    p.add_argument("--no-fill", dest="fill", action="store_false",
                   help="do not score due outcomes first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accuracy)


def _progress(args) -> Any:
    return None if args.json else stderr_progress


def cmd_analyze(args) -> int:
    from engine.llm.analyst import analyze

    doc = analyze(args.symbol, args.as_of, consensus=args.consensus, provider=args.provider,
                  prompt=args.prompt, blind=args.blind)
    if args.json:
        print_json(doc)
    else:
        label = " (offline)" if doc["offline"] else ""
        d = doc["decision"]
        if d is None:
            print(f"{doc['symbol']} as of {doc['as_of'][:10]}{label}: no decision — {doc['error']}")
        else:
            print(f"{doc['symbol']} as of {doc['as_of'][:10]}{label}: {d['decision']} "
                  f"confidence {d['confidence']:.0f}, entry {d['entry_price']}, stop "
                  f"{d['stop_loss']}, target {d['take_profit']}, size "
                  f"{d['position_size_suggestion']}; regime {doc['regime']}; risk "
                  f"{'approved' if doc['risk']['approved'] else 'rejected'}; "
                  f"cost ${doc['cost_usd']:.4f}")
            print(f"  {d['reasoning']}")
    return 0 if doc["decision"] is not None else 1


def cmd_screen(args) -> int:
    from engine.llm.analyst import screen

    rows = screen(args.symbols, args.as_of, provider=args.provider, batch=args.batch,
                  escalate=args.escalate, on_progress=_progress(args))
    doc = {"provider": rows[0]["provider"] if rows else args.provider, "rows": rows,
           "cost_usd": sum(r.get("cost_usd") or 0.0 for r in rows)}
    notes = sorted({r["batch_note"] for r in rows if r.get("batch_note")})
    for note in notes:  # the batch was abandoned: say so whatever the output format
        sys.stderr.write(f"warning: {note}\n")
    if args.json:
        print_json(doc)
    else:
        for r in rows:
            print(f"{r['rank']:>3} {r['symbol']:<14} {r['decision'] or '-':<5} "
                  f"{(r['confidence'] or 0):>5.1f} {r['tier'] or '-':<9} "
                  f"{'actionable' if r['actionable'] else ''} {r['error'] or ''}")
    return 0


def cmd_replay(args) -> int:
    from engine.llm.analyst import estimate_replay, replay

    est = estimate_replay(args.symbol, args.start, args.end, args.every,
                          consensus=args.consensus, provider=args.provider, blind=args.blind,
                          paired=args.paired)
    sys.stderr.write(f"replay estimate: {est['n_decisions']} decisions, {est['calls']} calls, "
                     f"up to ${est['max_cost_usd']:.4f} (expected ${est['expected_cost_usd']:.4f},"
                     f" provider {est['provider']}; arms {'+'.join(est['arms'])}"
                     + (f", offline control {est['control_decisions']}"
                        if est["control_decisions"] else "") + ")\n")
    if est["lookahead_warning"]:  # before anything runs
        sys.stderr.write(f"warning: {est['lookahead_warning']}\n")
    doc = replay(args.symbol, args.start, args.end, args.every, consensus=args.consensus,
                 provider=args.provider, max_cost_usd=args.max_cost,
                 on_progress=_progress(args), blind=args.blind, paired=args.paired)
    if args.json:
        print_json(doc)
    else:
        acc = "n/a" if doc["accuracy"] is None else f"{doc['accuracy']:.1%}"
        print(f"{doc['n_decisions']} decisions ({doc['provider']}, "
              f"{'+'.join(doc['arms'])}): accuracy {acc}, P&L {doc['pnl_usd']:.2f} USD, "
              f"cost ${doc['cost_usd']:.4f}")
        for side, r in doc["training_window"].items():
            if r["decisions"]:
                print(f"  {SIDE_LABELS[side]}: {r['decisions']} decisions, accuracy "
                      f"{_pct(r['accuracy'])}")
        if doc["paired"]:
            p = doc["paired"]
            gap = "n/a" if p["accuracy_gap"] is None else f"{p['accuracy_gap']:+.1%}"
            print(f"  paired: agreement {_pct(p['agreement'])} over {p['pairs']} dates, "
                  f"accuracy gap named - blind {gap}")
        if doc["comparison"]:
            c = doc["comparison"]
            print(f"  control arm: offline accuracy {_pct(c['offline']['accuracy'])}, "
                  f"buy-and-hold {_pct(c['buy_and_hold']['accuracy'])}")
    return 0


SIDE_LABELS = {"inside": "inside the training window (as of the cutoff or before)",
               "outside": "after the training cutoff",
               "no_cutoff": "no training cutoff (offline analyst)"}


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


def cmd_costs(args) -> int:
    from engine.llm.costs import acknowledge_anomalies, cost_summary, pending_anomalies

    acknowledged = None
    if args.acknowledge:
        shown = pending_anomalies()
        acknowledged = acknowledge_anomalies()
        if not args.json:
            for a in shown:
                print(f"acknowledged call {a['id']} ({a['model_id']}, {a['prompt']}, "
                      f"{a['created_at']:%Y-%m-%d %H:%M} UTC): {a['anomaly']}")
            print(f"{acknowledged} anomal{'y' if acknowledged == 1 else 'ies'} acknowledged; "
                  "paid calls may run again")
    doc = cost_summary()
    if acknowledged is not None:
        doc["acknowledged"] = acknowledged
    if args.json:
        print_json(doc)
    else:
        print(f"today ${doc['today_usd']:.4f} of ${doc['daily_limit_usd']:.2f}; month "
              f"${doc['month_usd']:.4f} of ${doc['monthly_limit_usd']:.2f}; {doc['calls']} "
              f"calls, cache hit rate {doc['cache_hit_rate']:.1%}, saved ${doc['saved_usd']:.4f}")
        for a in doc["anomalies"]:
            print(f"ANOMALY call {a['id']} ({a['model_id']}, {a['prompt']}): {a['anomaly']} — "
                  "paid calls are stopped; check it, then run `python -m engine costs "
                  "--acknowledge`")
    return 0


def cmd_accuracy(args) -> int:
    from engine.llm.tracking import accuracy_report, aggregate_daily, fill_outcomes

    if args.fill:
        fill_outcomes()
        aggregate_daily()
    doc = accuracy_report()  # bootstrap intervals seeded with 0: reproducible
    if args.json:
        print_json(doc)
    else:
        o = doc["overall"]
        acc = "n/a" if o["accuracy"] is None else f"{o['accuracy']:.1%}"
        print(f"{o['decisions']} decisions, {o['scored']} scored: accuracy {acc}, P&L "
              f"{o['pnl_usd']:.2f} USD, API cost ${o['api_cost_usd']:.4f}")
        for side, r in doc["training_window"].items():
            if r["decisions"]:
                print(f"  {SIDE_LABELS[side]}: {r['decisions']} decisions, accuracy "
                      f"{_pct(r['accuracy'])}, win rate "
                      f"{_pct(r['win_rate'])}, P&L {r['pnl_usd']:.2f} USD")
    return 0
