"""``python -m engine config``: the settings in force, or the configuration reference.

``--markdown`` prints ``docs/configuration.md`` exactly (generated from
:mod:`engine.config`); without it every variable is listed with its value and whether it
came from the environment. A bad value fails here with the message that names the fix.
"""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("config", help="show the settings in force (or --markdown: "
                              "the configuration reference)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON list")
    out.add_argument("--markdown", action="store_true",
                     help="print the reference (docs/configuration.md)")
    p.set_defaults(func=cmd_config)


def cmd_config(args) -> int:
    import sys

    from engine.cli import print_json
    from engine.config import settings_markdown, settings_values

    if args.markdown:
        sys.stdout.write(settings_markdown())
        return 0
    rows = settings_values()
    if args.json:
        print_json(rows)
        return 0
    width = max(len(r["variable"]) for r in rows)
    for r in rows:
        value = "unset" if r["value"] is None else r["value"]
        sys.stdout.write(f"{r['variable']:<{width}}  {value}  ({r['section']}, {r['source']})\n")
    return 0
