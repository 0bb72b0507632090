"""The command line: ``python -m engine <command> …``.

Each command lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, which receives the parsed namespace and returns an exit code. Heavy
imports stay inside the command functions so ``--help`` is instant.

Errors: a :class:`~engine.errors.StratLabError` (or an argument error) prints one line,
``error: <problem and fix>``, on stderr and exits with status 2. So does a failure of the
environment — a bad ``DATABASE_URL``, a missing driver, a read-only or misplaced data
directory, a Ray cluster that cannot start — named with its fix by
:func:`engine.cli.failures.explain`. Anything else is an internal error (exit 1).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from engine.errors import StratLabError

#: Command modules, in the order ``--help`` lists them.
COMMAND_MODULES = ["engine.cli.data", "engine.cli.backtest", "engine.cli.llm",
                   "engine.cli.evolution"]
COMMAND_MODULES += ["engine.cli.models"]  # models …, retrain …
COMMAND_MODULES += ["engine.cli.neural"]
COMMAND_MODULES += ["engine.cli.config"]  # the settings and their reference
COMMAND_MODULES += ["engine.cli.paper"]  # paper books (issue 12)
COMMAND_MODULES += ["engine.cli.system"]  # system metrics (issue 12)
COMMAND_MODULES += ["engine.cli.walkforward"]  # walk-forward analysis (issue 13)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for engine errors
        # self.prog is the whole command so far: "python -m engine [command [subcommand]]"
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m engine", description="Strategy Lab engine")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    from engine.cli.args import document_rules

    document_rules(parser)  # every numeric option's --help states its rule
    return parser


def _clean(obj: Any) -> Any:
    """JSON has no NaN/Infinity: map non-finite floats to None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    """Print one JSON document on stdout (strict JSON: non-finite numbers become null)."""
    json.dump(_clean(obj), sys.stdout, default=str)
    sys.stdout.write("\n")


def stderr_progress(done: int, total: int, message: str = "") -> None:
    """A progress callback for the command line: one updating line on stderr."""
    pct = 100.0 * done / total if total else 100.0
    sys.stderr.write(f"\r{done}/{total} ({pct:5.1f}%) {message[:60]:<60}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except StratLabError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0
    except Exception as exc:
        from engine.cli.failures import explain
        from engine.config import debug_requested

        if debug_requested():
            raise
        known = explain(exc)  # the environment's failures, named with their fix
        if known:
            sys.stderr.write(f"error: {known}\n")
            return 2
        sys.stderr.write(f"error: internal error {type(exc).__name__}: {exc} "
                         "(set STRATLAB_DEBUG=1 for the traceback and please report it)\n")
        return 1
