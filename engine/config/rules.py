"""The one rule for numbers (and flags, paths), as pydantic field types.

The environment's sections (:mod:`engine.config.sections`) and the run configurations
(``EvolutionConfig``, ``TrainConfig``, the retrain policy) use these same types, so a value
from a variable, a flag, a page or the database passes the same check:

- a whole number takes digits only (``50``; not ``50.0``, ``50.5``, ``5e1`` or ``true``);
- a number takes any finite decimal (``0.1``, ``1e-3``, ``50``); ``nan`` and ``inf`` are
  refused;
- a flag takes ``true``/``false``, ``1``/``0``, ``yes``/``no``, ``on``/``off``.
"""

from __future__ import annotations

import math
import numbers
import re
from pathlib import Path
from typing import Annotated, Any

import annotated_types as at
from pydantic import BeforeValidator

from engine.errors import ParameterError


class ConfigError(ParameterError):
    """A setting's value breaks its rule; the message names the variable and the fix."""


# ------------------------------------------------------------------ the one rule for numbers

_WHOLE = re.compile(r"[+-]?\d+")
_FLAG = {"1": True, "true": True, "yes": True, "on": True,
         "0": False, "false": False, "no": False, "off": False}


def _whole(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("must be a whole number, not true/false")
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, str) and _WHOLE.fullmatch(v.strip()):
        return int(v.strip())
    raise ValueError(f"must be a whole number written without a decimal point "
                     f"(e.g. 50, not 50.0), got {v!r}")


def _finite(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            raise ValueError(f"must be a number (e.g. 0.05), got {v!r}") from None
    elif isinstance(v, numbers.Real):
        f = float(v)
    else:
        raise ValueError(f"must be a number, got {v!r}")
    if not math.isfinite(f):
        raise ValueError(f"must be a finite number (nan and inf are refused), got {v!r}")
    return f


def _finite_or_none(v: Any) -> float | None:
    if v is None or (isinstance(v, str) and v.strip().lower() in ("", "none", "off")):
        return None
    try:
        return _finite(v)
    except ValueError as exc:
        raise ValueError(f"{exc}; use none to turn it off") from None


def _flag(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in _FLAG:
        return _FLAG[v.strip().lower()]
    if isinstance(v, numbers.Integral) and v in (0, 1):
        return bool(v)
    raise ValueError(f"must be true or false (or 1/0, yes/no, on/off), got {v!r}")


def _path(v: Any) -> Any:
    return Path(v).expanduser() if isinstance(v, (str, Path)) else v


def describe(metadata: list[Any]) -> str:
    """A field type's rule in words (from its ``Annotated`` metadata), e.g. ``a whole
    number from 1 to 65536``; the reference and the error messages both use it."""
    kinds = {getattr(m, "func", None) for m in metadata}
    if _whole in kinds:
        kind = "a whole number"
    elif _finite in kinds:
        kind = "a finite number"
    elif _finite_or_none in kinds:
        return "a finite number, or none to turn it off"
    elif _flag in kinds:
        return "true or false (or 1/0, yes/no, on/off)"
    elif _path in kinds:
        return "a path"
    else:
        return "text"
    lo = next(((">", m.gt) for m in metadata if isinstance(m, at.Gt)), None) or next(
        ((">=", m.ge) for m in metadata if isinstance(m, at.Ge)), None)
    hi = next((("<=", m.le) for m in metadata if isinstance(m, at.Le)), None)
    if lo and hi and lo[0] == ">=":
        return f"{kind} from {lo[1]} to {hi[1]}"
    sym = {">": ">", ">=": "≥", "<=": "≤"}
    parts = [f"{sym[b[0]]} {b[1]}" for b in (lo, hi) if b]
    return f"{kind} {' and '.join(parts)}" if parts else kind


Whole = Annotated[int, BeforeValidator(_whole)]
Number = Annotated[float, BeforeValidator(_finite)]
NumberOrNone = Annotated[float | None, BeforeValidator(_finite_or_none)]
Flag = Annotated[bool, BeforeValidator(_flag)]
FolderPath = Annotated[Path, BeforeValidator(_path)]

# The constrained types the run configurations share with their environment defaults.
PopulationSize = Annotated[Whole, at.Ge(4)]
Generations = Annotated[Whole, at.Ge(0)]
EliteSize = Annotated[Whole, at.Ge(0)]
Probability = Annotated[Number, at.Ge(0), at.Le(1)]
FitnessThreshold = NumberOrNone
Epochs = Annotated[Whole, at.Ge(1), at.Le(10_000)]
BatchSize = Annotated[Whole, at.Ge(1), at.Le(65_536)]
LearningRate = Annotated[Number, at.Gt(0), at.Le(1)]
SequenceLength = Annotated[Whole, at.Ge(2), at.Le(1024)]
NonNegative = Annotated[Number, at.Ge(0)]
Positive = Annotated[Number, at.Gt(0)]
AtLeastOne = Annotated[Whole, at.Ge(1)]
