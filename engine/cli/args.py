"""Argument types for the command line: every numeric option is checked as it is parsed.

Why one module: ``type=float`` accepts ``nan`` and ``inf`` (a NaN ``--max-cost`` compares
false with everything and switched the guard off), and ``type=int`` accepts any size (a
population of 100 million ran until memory ran out). Each type here refuses non-finite
numbers, states its range, and raises :class:`argparse.ArgumentTypeError`, so the parser
prints one line naming the flag, the rule and the fix::

    error: argument --population: 100000000 is not valid: must be a whole number from 4 to
    100,000; give a value in that range (see `python -m engine evolve --help`)

Each type carries its rule in words (``.rule``); :func:`option_rules` lists every numeric
option of the parser with its rule, and ``docs/cli.md`` ("What is validated") prints that
table (a test keeps the two equal).
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass
from typing import Any

_WHOLE = re.compile(r"[+-]?\d+")
#: Largest id SQLite (and PostgreSQL ``bigint``) can store: ids above it cannot exist.
MAX_ID = 2**63 - 1
#: Seeds are 32-bit, as NumPy's and DEAP's generators take them.
MAX_SEED = 2**32 - 1


def _num(x: float) -> str:
    """``100000`` → ``100,000``; ``0.1`` → ``0.1``; ``1e12`` → ``1e+12``."""
    if isinstance(x, int) or float(x).is_integer() and abs(x) < 1e9:
        return f"{int(x):,}"
    return f"{x:g}"


@dataclass(frozen=True)
class WholeNumber:
    """A whole number from ``lo`` to ``hi`` (both included); digits only."""

    lo: int
    hi: int
    example: int | None = None

    @property
    def rule(self) -> str:
        return f"a whole number from {_num(self.lo)} to {_num(self.hi)}"

    def __call__(self, text: str) -> int:
        s = str(text).strip()
        if not _WHOLE.fullmatch(s):
            extra = " (written without a decimal point)" if re.fullmatch(
                r"[+-]?[\d.]+([eE][+-]?\d+)?", s) else ""
            raise argparse.ArgumentTypeError(
                f"{text!r} is not valid: must be {self.rule}{extra}; "
                f"give e.g. {self.example if self.example is not None else self.lo}")
        value = int(s)
        if not self.lo <= value <= self.hi:
            raise argparse.ArgumentTypeError(
                f"{s} is not valid: must be {self.rule}; give a value in that range")
        return value


@dataclass(frozen=True)
class FiniteNumber:
    """A finite decimal in a range; ``lo_open``/``hi_open`` exclude the ends.

    ``none_word`` lets the text ``none`` through unchanged (an option that documents
    ``none`` as "off"); ``nan`` and ``inf`` are always refused.
    """

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    example: str = "0.05"
    none_word: bool = False

    @property
    def rule(self) -> str:
        lo_ok, hi_ok = math.isfinite(self.lo), math.isfinite(self.hi)
        if lo_ok and hi_ok:
            left, right = ("(" if self.lo_open else "["), (")" if self.hi_open else "]")
            words = f"a finite number in {left}{_num(self.lo)}, {_num(self.hi)}{right}"
        elif lo_ok:
            words = f"a finite number {'>' if self.lo_open else '≥'} {_num(self.lo)}"
        elif hi_ok:
            words = f"a finite number {'<' if self.hi_open else '≤'} {_num(self.hi)}"
        else:
            words = "a finite number"
        return words + (", or none to turn it off" if self.none_word else "")

    def __call__(self, text: str) -> float | str:
        s = str(text).strip()
        if self.none_word and s.lower() in ("none", "off"):
            return s.lower()
        try:
            value = float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not valid: must be {self.rule}; give e.g. {self.example}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"{s} is not valid: must be {self.rule} (nan and inf are refused); "
                f"give e.g. {self.example}")
        below = value <= self.lo if self.lo_open else value < self.lo
        above = value >= self.hi if self.hi_open else value > self.hi
        if below or above:
            raise argparse.ArgumentTypeError(
                f"{s} is not valid: must be {self.rule}; give a value in that range")
        return value


def bounded_int(lo: int, hi: int, example: int | None = None) -> WholeNumber:
    """A whole-number option from ``lo`` to ``hi``, e.g. ``bounded_int(4, 100_000)``."""
    return WholeNumber(lo, hi, example)


def bounded_float(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False,
                  example: str = "0.05") -> FiniteNumber:
    """A finite decimal option between ``lo`` and ``hi`` (ends included unless open)."""
    return FiniteNumber(lo, hi, lo_open, hi_open, example)


#: The shared types. Size-like options have a ceiling so no flag can ask for unbounded work.
finite_float = FiniteNumber()
non_negative_float = FiniteNumber(lo=0.0, example="0.5")
positive_float = FiniteNumber(lo=0.0, lo_open=True, example="0.5")
#: A probability or share: 0 to 1, both included.
fraction = FiniteNumber(0.0, 1.0, example="0.5")
#: A fraction strictly between 0 and 1 (stop-loss, take-profit: 0.05 = 5 %).
open_fraction = FiniteNumber(0.0, 1.0, lo_open=True, hi_open=True, example="0.05")
#: A share of the rows held out for validation or test: (0, 0.5).
holdout_fraction = FiniteNumber(0.0, 0.5, lo_open=True, hi_open=True, example="0.15")
#: Commission per side, as the engine accepts it: [0, 0.1).
commission = FiniteNumber(0.0, 0.1, hi_open=True, example="0.001")
#: Starting cash: positive, at most a trillion (beyond it float arithmetic loses cents).
cash = FiniteNumber(0.0, 1e12, lo_open=True, example="10000")
#: A fitness threshold: a finite number, or ``none`` (no early stop).
threshold_or_none = FiniteNumber(example="0.8", none_word=True)
positive_int = WholeNumber(1, MAX_ID, 1)
record_id = WholeNumber(1, MAX_ID, 1)
seed = WholeNumber(0, MAX_SEED, 42)
#: How many rows a listing prints.
list_limit = WholeNumber(1, 100_000, 20)


def option_rules(parser: argparse.ArgumentParser) -> list[tuple[str, str, str]]:
    """``(command, option, rule)`` for every option whose type is one of these types.

    Walks the parser and its subcommands; ``docs/cli.md`` prints the table this gives.
    """
    rows: list[tuple[str, str, str]] = []

    def walk(p: argparse.ArgumentParser, command: str) -> None:
        for action in p._actions:  # argparse has no public walk over actions
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{command} {name}".strip())
            elif isinstance(action.type, (WholeNumber, FiniteNumber)):
                flag = action.option_strings[-1] if action.option_strings else \
                    action.dest.upper()
                rows.append((command, flag, action.type.rule))

    walk(parser, "")
    return rows


def document_rules(parser: argparse.ArgumentParser) -> None:
    """Append each typed option's rule to its ``--help`` line (``…; 1 to 1,000``)."""

    def walk(p: argparse.ArgumentParser) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)
            elif isinstance(action.type, (WholeNumber, FiniteNumber)):
                rule = action.type.rule
                action.help = f"{action.help}; {rule}" if action.help else rule

    walk(parser)


def rules_markdown(parser: argparse.ArgumentParser) -> str:
    """The table of :func:`option_rules` as Markdown (the block in ``docs/cli.md``)."""
    lines = ["| command | option | accepts |", "|---|---|---|"]
    lines += [f"| `{c}` | `{o}` | {r} |" for c, o, r in option_rules(parser)]
    return "\n".join(lines) + "\n"


def all_numeric_types(parser: argparse.ArgumentParser) -> list[tuple[str, str, Any]]:
    """Every option with a plain ``int``/``float`` type (a test asserts there is none)."""
    bad: list[tuple[str, str, Any]] = []

    def walk(p: argparse.ArgumentParser, command: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{command} {name}".strip())
            elif action.type in (int, float):
                bad.append((command, action.option_strings[-1] if action.option_strings
                            else action.dest, action.type))

    walk(parser, "")
    return bad
