"""The dataclasses pages and the command line receive (each with ``to_dict()``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from engine.evolution import controls
from engine.evolution.tables import EvolutionIndividual, EvolutionRun


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


@dataclass
class RunInfo:
    """An evolution run as pages list it (poll ``generations_done`` and ``status``)."""

    id: int
    name: str
    status: str
    requested_action: str | None
    generations_done: int
    target_generations: int | None
    evaluations: int
    seconds: float
    best_fitness: float | None
    mean_fitness: float | None
    best_uid: int | None
    best: dict[str, Any]
    split: dict[str, Any]
    config: dict[str, Any]
    error: str
    created_at: datetime
    updated_at: datetime

    @property
    def progress(self) -> float:
        """Fraction of the target generations done (0..1)."""
        target = self.target_generations or self.config.get("generations") or 0
        return min(1.0, self.generations_done / target) if target else 1.0

    @property
    def job_id(self) -> str:
        """The scheduler job that evolves this run (a page asks the scheduler if it is queued)."""
        return controls.job_id(self.id)

    # Which controls the engine accepts now (engine.evolution.controls, the table the
    # controls in engine.evolution.jobs enforce): a page enables exactly these buttons.
    @property
    def can_evolve(self) -> bool:
        return controls.accepts("evolve", self.status, self.requested_action)

    @property
    def can_resume(self) -> bool:
        return controls.accepts("resume", self.status, self.requested_action)

    @property
    def can_pause(self) -> bool:
        return controls.accepts("pause", self.status, self.requested_action)

    @property
    def can_stop(self) -> bool:
        return controls.accepts("stop", self.status, self.requested_action)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"], d["updated_at"] = _iso(self.created_at), _iso(self.updated_at)
        d["progress"] = self.progress
        for action in controls.TRANSITIONS:
            d[f"can_{action}"] = getattr(self, f"can_{action}")
        return d


@dataclass
class GenerationStats:
    """Fitness statistics of one generation, all islands combined, and per island."""

    generation: int
    best: float
    mean: float
    worst: float
    diversity: float
    mutation_rate: float | None
    evaluations: int
    n_individuals: int
    islands: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IndividualInfo:
    """One member of a generation's population."""

    uid: int
    generation: int
    island: int
    params: dict[str, Any]
    fitness: float
    objectives: dict[str, Any]
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any] | None
    parents: list[int]
    age: int
    born: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_info(row: EvolutionRun) -> RunInfo:
    return RunInfo(
        id=int(row.id), name=row.name, status=row.status,
        requested_action=row.requested_action, generations_done=row.generations_done,
        target_generations=row.target_generations, evaluations=row.evaluations,
        seconds=row.seconds, best_fitness=row.best_fitness, mean_fitness=row.mean_fitness,
        best_uid=row.best_uid, best=dict(row.best or {}), split=dict(row.split or {}),
        config=dict(row.config or {}), error=row.error or "", created_at=row.created_at,
        updated_at=row.updated_at,
    )


def individual_info(row: EvolutionIndividual) -> IndividualInfo:
    return IndividualInfo(
        uid=row.uid, generation=row.generation, island=row.island, params=dict(row.params),
        fitness=row.fitness, objectives=dict(row.objectives or {}),
        in_sample=dict(row.in_sample or {}),
        out_of_sample=dict(row.out_of_sample) if row.out_of_sample is not None else None,
        parents=list(row.parents or []), age=row.age, born=row.born,
    )
