"""The walk-forward analysis's configuration: one validated pydantic model.

The windows (:mod:`engine.walkforward.windows`) are cut from the bars of one dataset after
``start``/``end`` are applied. Each in-sample window is evolved as an ordinary evolution run
(:class:`engine.evolution.EvolutionConfig` with ``oos_fraction=0``: the whole window is
in-sample), with ``population_size`` × ``generations`` and the window's seed
``seed + k``; ``evolution`` passes any further :class:`~engine.evolution.EvolutionConfig`
field (``crossover_rate``, ``islands``, …) unchanged to every window.

``fitness_threshold`` defaults to ``None`` here (every window runs all its generations, so
a walk-forward's cost is known in advance); give a number for the evolution's early stop.

Every problem raises :class:`~engine.errors.ParameterError` naming the field, its command
line flag and the fix.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import ParameterError

#: Fewest bars of an in-sample window (the evolution's own minimum: indicators warm up).
MIN_IS_BARS = 30
#: Fewest bars of an out-of-sample window.
MIN_OOS_BARS = 10
#: Most windows one analysis may have (a ceiling so no flag asks for unbounded work).
MAX_WINDOWS = 200

#: Fields the analysis sets itself on every window's evolution (not allowed in ``evolution``).
_OWN_FIELDS = ("symbols", "start", "end", "oos_fraction", "walk_forward_folds",
               "population_size", "generations", "seed", "backend", "workers", "cash",
               "commission", "allow_short", "fitness", "fitness_threshold")

_FLAGS = {"symbol": "--data", "windows": "--windows", "is_bars": "--is-bars",
          "oos_bars": "--oos-bars", "population_size": "--population",
          "generations": "--generations", "seed": "--seed", "backend": "--backend",
          "workers": "--workers", "commission": "--commission", "cash": "--cash"}


def _fresh_seed() -> int:
    return random.SystemRandom().randrange(2**31)


class WalkForwardConfig(BaseModel):
    """Everything that defines a walk-forward analysis (stored as JSON with it)."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    windows: int
    is_bars: int
    oos_bars: int
    anchored: bool = False
    start: str | None = None
    end: str | None = None
    population_size: int = 50
    generations: int = 30
    seed: int = Field(default_factory=_fresh_seed)
    fitness: str = "sharpe_score"
    fitness_threshold: float | None = None
    backend: Literal["inline", "process", "ray"] = "process"
    workers: int | None = None
    cash: float = 10_000.0
    commission: float = 0.0
    allow_short: bool = False
    evolution: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ParameterError(_explain(exc)) from None

    @model_validator(mode="after")
    def _consistent(self) -> WalkForwardConfig:
        def bad(field: str, problem: str, fix: str) -> None:
            flag = f" ({_FLAGS[field]})" if field in _FLAGS else ""
            raise ParameterError(f"walk-forward setting {field}{flag}: {problem}; {fix}")

        if not self.symbol.strip() or "," in self.symbol:
            bad("symbol", f"got {self.symbol!r}", "give one dataset symbol or file path "
                "(a walk-forward trades one dataset)")
        if not 1 <= self.windows <= MAX_WINDOWS:
            bad("windows", f"must be 1..{MAX_WINDOWS}, got {self.windows}",
                "give the number of in-sample/out-of-sample window pairs, e.g. 5")
        if self.is_bars < MIN_IS_BARS:
            bad("is_bars", f"must be at least {MIN_IS_BARS} bars, got {self.is_bars}",
                "give a longer in-sample window, e.g. 500")
        if self.oos_bars < MIN_OOS_BARS:
            bad("oos_bars", f"must be at least {MIN_OOS_BARS} bars, got {self.oos_bars}",
                "give a longer out-of-sample window, e.g. 100")
        if self.population_size < 4:
            bad("population_size", f"must be at least 4, got {self.population_size}",
                "give e.g. 50")
        if self.generations < 0:
            bad("generations", f"must be >= 0, got {self.generations}", "give e.g. 30")
        if not 0 <= self.seed < 2**32:
            bad("seed", f"must be 0..2^32-1, got {self.seed}", "give e.g. 42")
        if self.workers is not None and self.workers < 1:
            bad("workers", f"must be >= 1, got {self.workers}", "give 1 or more, or leave it "
                "unset (one per core)")
        clash = sorted(set(self.evolution) & set(_OWN_FIELDS))
        if clash:
            bad("evolution", f"sets {', '.join(clash)}", "set those on the walk-forward "
                "itself (they are the same for every window)")
        # the window's evolution settings must be valid too: fail now, not in window 3
        self.evolution_config(0, "2000-01-01T00:00:00", "2000-12-31T00:00:00")
        return self

    def window_seed(self, k: int) -> int:
        """The seed of window ``k``'s evolution: ``seed + k`` (mod 2^32)."""
        return (self.seed + k) % 2**32

    def evolution_config(self, k: int, start: str, end: str):
        """The :class:`~engine.evolution.EvolutionConfig` of window ``k`` (in-sample bars
        ``start``..``end``, both ISO timestamps, inclusive)."""
        from engine.evolution import EvolutionConfig

        return EvolutionConfig(
            symbols=[self.symbol], start=start, end=end, oos_fraction=0.0,
            population_size=self.population_size, generations=self.generations,
            seed=self.window_seed(k), fitness=self.fitness,
            fitness_threshold=self.fitness_threshold, backend="inline", cash=self.cash,
            commission=self.commission, allow_short=self.allow_short, **self.evolution)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        flag = f" ({_FLAGS[loc]})" if loc in _FLAGS else ""
        if err.get("type") == "missing":
            parts.append(f"walk-forward setting {loc}{flag} is required; give it")
        else:
            parts.append(f"walk-forward setting {loc}{flag}: {msg} (got {err.get('input')!r})"
                         "; see docs/walkforward.md")
    return "; ".join(parts)
