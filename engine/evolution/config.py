"""The evolution run's configuration: one validated pydantic model.

Defaults of the seed (``POPULATION_SIZE`` 50, ``MUTATION_RATE`` 0.1, ``CROSSOVER_RATE`` 0.8,
``ELITE_SIZE`` 5, ``MAX_GENERATIONS`` 100, ``FITNESS_THRESHOLD`` 0.8) come from the
``evolution`` section of :mod:`engine.config` (environment variables of those names), read
when a config is *created* (a stored run keeps the values it was created with); an explicit
argument overrides them and passes the same field types (one rule for numbers: whole numbers
without a decimal point, finite decimals). ``FITNESS_THRESHOLD=none`` disables the early stop.

Every validation problem raises :class:`~engine.errors.ParameterError` naming the field and
the fix (never a raw pydantic ``ValidationError``).

Split of the data (after ``start``/``end`` are applied, before anything else):

- ``oos_fraction`` (default 0.3): the last 30 % of the bars are the out-of-sample hold-out;
  ``in_sample_end`` is the timestamp of the last in-sample bar and ``out_of_sample_start``
  that of the first held-out bar. ``0`` means no hold-out (out-of-sample metrics are null).
- ``walk_forward_folds=K`` (K >= 2) replaces ``oos_fraction``: the bars are cut into K + 1
  contiguous blocks of equal length; the last block is the out-of-sample hold-out and the
  first K blocks are the in-sample *folds*. Fitness is then the **mean of the fitness
  function over the K folds**, each fold backtested on its own bars (like
  ``backtest --start <fold_start> --end <fold_end>``, indicators warmed up inside the fold),
  which rewards genomes that work in every period rather than in one lucky stretch. The
  reported in-sample metrics are still those of one backtest on the whole in-sample window
  (``backtest --end <in_sample_end>``); the per-fold fitnesses are stored with each
  individual (``objectives["fold_fitness"]``).
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.config import (
    EliteSize,
    FitnessThreshold,
    Generations,
    PopulationSize,
    Probability,
    get_settings,
)
from engine.errors import ParameterError

DEFAULT_OBJECTIVES = ("total_return_pct", "max_drawdown_pct", "sharpe")


def _env(field: str) -> Any:
    """The environment default of ``field`` (validated by :class:`EvolutionSettings`)."""
    return get_settings().default("evolution", field)


def _default_backend() -> str:
    return "ray" if get_settings().default("evolution", "ray_address") else "auto"


def _fresh_seed() -> int:
    return random.SystemRandom().randrange(2**31)


_FIX = {
    "symbols": "give one or more dataset symbols or file paths, e.g. symbols=['GOOG']",
    "population_size": "use at least 4 individuals per island (POPULATION_SIZE)",
    "generations": "use a whole number >= 0 (MAX_GENERATIONS)",
    "crossover_rate": "use a probability in [0, 1] (CROSSOVER_RATE)",
    "mutation_rate": "use a probability in [0, 1] (MUTATION_RATE)",
    "elite_size": "use 0 or more, fewer than the island's population (ELITE_SIZE)",
    "oos_fraction": "use 0 (no hold-out) or a fraction in [0.05, 0.9], e.g. 0.3",
    "walk_forward_folds": "use 2..20 folds or leave it unset",
    "tournament_size": "use 2 or more",
    "islands": "use 1..64 islands",
    "migration_interval": "use 1 or more generations",
    "migration_size": "use 0 or more, fewer than the island's population",
    "backend": "use auto, process, inline or ray",
    "objective": "use single or multi",
}


class EvolutionConfig(BaseModel):
    """Everything that defines an evolution run (stored as JSON with the run).

    Rates: ``crossover_rate`` is the probability that a pair of parents is recombined by
    simulated binary crossover; ``mutation_rate`` is the *base* per-gene probability of
    polynomial mutation (every offspring passes through the operator), raised by the adaptive
    rule (:mod:`engine.evolution.operators`) when diversity falls. ``population_size`` is the
    total over all islands (split as evenly as possible). ``generations`` is the target number
    of generations after the initial population (generation 0).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    symbols: list[str]
    start: str | None = None
    end: str | None = None
    oos_fraction: float = 0.3
    walk_forward_folds: int | None = None
    objective: Literal["single", "multi"] = "single"
    objectives: list[str] = Field(default_factory=lambda: list(DEFAULT_OBJECTIVES))
    fitness: str = "sharpe_score"
    population_size: PopulationSize = Field(default_factory=lambda: _env("population_size"))
    generations: Generations = Field(default_factory=lambda: _env("max_generations"))
    crossover_rate: Probability = Field(default_factory=lambda: _env("crossover_rate"))
    mutation_rate: Probability = Field(default_factory=lambda: _env("mutation_rate"))
    elite_size: EliteSize = Field(default_factory=lambda: _env("elite_size"))
    fitness_threshold: FitnessThreshold = Field(default_factory=lambda: _env("fitness_threshold"))
    tournament_size: int = 3
    islands: int = 1
    migration_interval: int = 5
    migration_size: int = 2
    adaptive_mutation: bool = True
    target_diversity: float = 0.25
    max_mutation_rate: float = 0.5
    sbx_eta: float = 15.0
    mutation_eta: float = 20.0
    seed: int = Field(default_factory=_fresh_seed)
    backend: Literal["auto", "process", "inline", "ray"] = Field(
        default_factory=_default_backend)
    workers: int | None = None
    cash: float = 10_000.0
    commission: float = 0.0
    allow_short: bool = False

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ParameterError(_explain(exc)) from None

    # ---------------------------------------------------------------- field checks
    @field_validator("symbols", mode="before")
    @classmethod
    def _split_symbols(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [s.strip() for s in v.split(",")]
        if isinstance(v, (list, tuple)):
            v = [str(s).strip() for s in v if str(s).strip()]
            if not v:
                raise ValueError("is empty")
        return v

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v: list[str]) -> list[str]:
        from engine.backtest.metrics import METRIC_NAMES

        bad = [o for o in v if o not in METRIC_NAMES]
        if bad or len(v) < 2:
            raise ValueError(f"must be 2+ metric names (maximised) from {', '.join(METRIC_NAMES)}"
                             + (f"; unknown: {', '.join(bad)}" if bad else ""))
        return list(v)

    @model_validator(mode="after")
    def _consistent(self) -> EvolutionConfig:
        def bad(field: str, problem: str) -> None:
            raise ValueError(f"[{field}] {problem}")

        if self.islands < 1 or self.islands > 64:
            bad("islands", f"must be 1..64, got {self.islands}")
        per_island = self.population_size // self.islands
        if per_island < 4:
            bad("population_size", f"gives {per_island} per island over {self.islands} "
                "island(s); need at least 4")
        if self.generations < 0:
            bad("generations", f"must be >= 0, got {self.generations}")
        for f in ("crossover_rate", "mutation_rate"):
            if not 0.0 <= getattr(self, f) <= 1.0:
                bad(f, f"must be in [0, 1], got {getattr(self, f)}")
        if not 0 <= self.elite_size < per_island:
            bad("elite_size", f"must be in [0, {per_island}) (per-island population), "
                f"got {self.elite_size}")
        if not (self.oos_fraction == 0 or 0.05 <= self.oos_fraction <= 0.9):
            bad("oos_fraction", f"got {self.oos_fraction}")
        if self.walk_forward_folds is not None and not 2 <= self.walk_forward_folds <= 20:
            bad("walk_forward_folds", f"got {self.walk_forward_folds}")
        if self.tournament_size < 2:
            bad("tournament_size", f"got {self.tournament_size}")
        if self.migration_interval < 1:
            bad("migration_interval", f"got {self.migration_interval}")
        if not 0 <= self.migration_size < per_island:
            bad("migration_size", f"must be in [0, {per_island}), got {self.migration_size}")
        if self.workers is not None and self.workers < 1:
            raise ValueError("[workers] must be >= 1 or unset (all cores)")
        if not 0 < self.target_diversity <= 1:
            raise ValueError("[target_diversity] must be in (0, 1]")
        if not self.mutation_rate <= self.max_mutation_rate <= 1:
            raise ValueError("[max_mutation_rate] must be in [mutation_rate, 1]")
        if self.sbx_eta <= 0 or self.mutation_eta <= 0:
            raise ValueError("[sbx_eta] / [mutation_eta] must be > 0 (e.g. 15 and 20)")
        if not 0 <= self.commission < 0.1 or self.cash <= 0:
            raise ValueError("[commission] must be in [0, 0.1) and [cash] > 0")
        return self

    # ---------------------------------------------------------------- helpers
    @property
    def island_sizes(self) -> list[int]:
        """Individuals per island: ``population_size`` split as evenly as possible."""
        base, extra = divmod(self.population_size, self.islands)
        return [base + (1 if i < extra else 0) for i in range(self.islands)]

    @property
    def n_objectives(self) -> int:
        return len(self.objectives) if self.objective == "multi" else 1

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "__root__")
        msg = str(err.get("msg", "invalid"))
        msg = msg.removeprefix("Value error, ")
        field = loc
        if msg.startswith("[") and "]" in msg:
            field, msg = msg[1:].split("]", 1)
            msg = msg.strip()
        fix = _FIX.get(field.split(".")[0], "see EvolutionConfig's documentation")
        inp = err.get("input")
        got = "" if "got" in msg or field == "" or isinstance(inp, dict) else f" (got {inp!r})"
        parts.append(f"evolution setting {field or 'config'}: {msg}{got}; {fix}")
    return "; ".join(parts)
