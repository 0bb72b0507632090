"""``system`` commands: the seed's system metrics (what the System page shows).

::

    python -m engine system metrics [--hours 24] --json

The scheduler's uptime is that of the process's own scheduler; the command line never
starts one (PRACTICES.md pitfall 4), so here it is ``null`` — the app's System page shows it.
"""

from __future__ import annotations

from engine.cli import args as types


def register(subparsers) -> None:
    p = subparsers.add_parser("system", help="system metrics: evaluations, generations, "
                              "retrains, job latency")
    sub = p.add_subparsers(dest="system_command", required=True, parser_class=type(p))
    m = sub.add_parser("metrics", help="the seed's system metrics over the last hours")
    m.add_argument("--hours", type=types.bounded_float(0, 87_600, lo_open=True, example="24"),
                   default=24.0, metavar="H", help="the window, in hours before now")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_metrics)


def cmd_metrics(args) -> int:
    from engine.cli import print_json
    from engine.system_metrics import system_metrics

    d = system_metrics(args.hours).to_dict()
    if args.json:
        print_json(d)
        return 0
    lat = d["job_latency"]

    def num(v, fmt="{:,.2f}"):
        return "—" if v is None else fmt.format(v)

    print(f"last {d['window_hours']:g} h (until {d['until']})")
    print(f"  strategies evaluated per hour  {num(d['strategies_evaluated_per_hour'])}")
    print(f"  generations per day            {num(d['generations_per_day'])}")
    print(f"  retrains per day               {num(d['retrains_per_day'])}")
    print(f"  scheduler uptime               {num(d['scheduler_uptime_s'], '{:,.0f} s')}")
    print(f"  job latency (s)                median {num(lat['median_s'])}  p95 "
          f"{num(lat['p95_s'])}  max {num(lat['max_s'])}  over {lat['runs']} runs")
    return 0
