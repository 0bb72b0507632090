"""Genetic evolution of ``genome`` strategies (DEAP), persisted, resumable, in the background.

The public API — pages and the command line use only these names::

    EvolutionConfig(symbols=[...], ...)                     validated settings (config.py)
    create_run(config) -> int                               a new run (status "created")
    evolve(run_id, generations=None, *, on_progress=None) -> EvolutionSummary
    run_evolution(config, on_progress=None) -> EvolutionSummary
    start_background(run_id, generations=None) -> str       job id "evolution-{run_id}"
    request_pause(run_id) / request_resume(run_id) -> str / request_stop(run_id)
    get_run(run_id) -> RunInfo          list_runs() -> list[RunInfo]
    history(run_id) -> list[GenerationStats]
    population(run_id, generation=None) -> list[IndividualInfo]
    get_individual(run_id, uid) -> IndividualDetail
    pareto_front(run_id) -> list[IndividualInfo]
    parameter_importance(run_id) -> dict[str, float]
    parameter_distribution(run_id) -> polars.DataFrame
    reset_run(run_id, *, new_seed=True) -> RunInfo
    promote(run_id, uid, name) -> PromotedStrategy
    list_promoted() -> list[PromotedStrategy]    get_promoted(name) -> PromotedStrategy
    register_fitness(name, fn)                    fitness_names() -> list[str]
    deflated_sharpe_from_moments(sharpe, n_obs, skew, kurtosis, n_trials,
                                 trials_sharpe_variance, periods_per_year=1) -> DeflatedSharpe

Every ``*Info``/summary is a dataclass with ``to_dict()``. See docs/evolution.md for the
fitness formula, the adaptive-mutation rule, islands, determinism and backends.
"""

from __future__ import annotations

import random
from typing import Any

from engine.evolution import store
from engine.evolution.analysis import parameter_distribution, parameter_importance
from engine.evolution.analysis import pareto_front as _pareto_front
from engine.evolution.config import EvolutionConfig
from engine.evolution.detail import IndividualDetail, get_individual
from engine.evolution.fitness import fitness_names, register_fitness
from engine.evolution.jobs import request_pause, request_resume, request_stop, start_background
from engine.evolution.overfitting import (
    DeflatedSharpe,
    OverfittingReport,
    deflated_sharpe_from_moments,
)
from engine.evolution.promote import PromotedInfo as PromotedStrategy
from engine.evolution.promote import get_promoted, list_promoted, promote
from engine.evolution.runner import EvolutionSummary, evolve, run_evolution
from engine.evolution.store import GenerationStats, IndividualInfo, RunInfo, RunNotFound

__all__ = [
    "DeflatedSharpe",
    "EvolutionConfig",
    "EvolutionSummary",
    "GenerationStats",
    "IndividualDetail",
    "IndividualInfo",
    "OverfittingReport",
    "PromotedStrategy",
    "RunInfo",
    "RunNotFound",
    "create_run",
    "deflated_sharpe_from_moments",
    "evolve",
    "fitness_names",
    "get_individual",
    "get_promoted",
    "get_run",
    "history",
    "list_promoted",
    "list_runs",
    "parameter_distribution",
    "parameter_importance",
    "pareto_front",
    "population",
    "promote",
    "register_fitness",
    "request_pause",
    "request_resume",
    "request_stop",
    "reset_run",
    "run_evolution",
    "start_background",
]


def create_run(config: EvolutionConfig | dict[str, Any], *, name: str = "") -> int:
    """Store a new run (status ``created``); nothing is evaluated until :func:`evolve`.

    The data is loaded once here so a bad symbol or too short a window fails now.
    """
    from engine.evolution.evaluate import load_windows

    cfg = config if isinstance(config, EvolutionConfig) else EvolutionConfig(**config)
    load_windows(cfg)
    return store.create_run_row(cfg.to_dict(), name=name)


def get_run(run_id: int) -> RunInfo:
    """A run's status and progress (runs of dead processes show as ``interrupted``)."""
    store.recover_interrupted()
    return store.run_info(store.get_run_row(run_id))


def list_runs() -> list[RunInfo]:
    """Every run, newest first."""
    store.recover_interrupted()
    return [store.run_info(r) for r in store.list_run_rows()]


def history(run_id: int) -> list[GenerationStats]:
    """Per generation: best/mean/worst fitness and diversity of all islands combined, with
    the same per island in ``islands`` (empty for a single island)."""
    store.get_run_row(run_id)
    out: dict[int, GenerationStats] = {}
    for r in store.generation_rows(run_id):
        if r.island == -1:
            out[r.generation] = GenerationStats(
                generation=r.generation, best=r.best, mean=r.mean, worst=r.worst,
                diversity=r.diversity, mutation_rate=r.mutation_rate,
                evaluations=r.evaluations, n_individuals=r.n_individuals)
        elif r.generation in out:
            out[r.generation].islands.append({
                "island": r.island, "best": r.best, "mean": r.mean, "worst": r.worst,
                "diversity": r.diversity, "mutation_rate": r.mutation_rate,
                "evaluations": r.evaluations, "n_individuals": r.n_individuals})
    return [out[g] for g in sorted(out)]


def population(run_id: int, generation: int | None = None) -> list[IndividualInfo]:
    """The population of ``generation`` (default the latest), island by island.

    A generation the run has not stored is refused with the range it has (never an empty
    list that looks like an empty population); a run with no population yet has none.
    """
    store.get_run_row(run_id)
    rows = store.individuals_of(run_id, generation)
    if generation is not None and not rows:
        _refuse_missing_generation(run_id, generation)
    return [store.individual_info(r) for r in rows]


def _refuse_missing_generation(run_id: int, generation: int) -> None:
    from sqlmodel import select

    from engine.db import read_scope
    from engine.errors import ParameterError
    from engine.evolution.tables import EvolutionIndividual

    with read_scope() as s:
        stored = sorted(set(s.exec(select(EvolutionIndividual.generation)
                                   .where(EvolutionIndividual.run_id == run_id)).all()))
    if not stored:
        return  # a new run: its population is drawn by the first evolve
    have = (f"{stored[0]} to {stored[-1]}" if stored == list(range(stored[0], stored[-1] + 1))
            else ", ".join(map(str, stored[:20])) + (" …" if len(stored) > 20 else ""))
    raise ParameterError(f"run {run_id} has no generation {generation}: its stored generations "
                         f"are {have}; give one of those (or omit --generation for the latest)")


def pareto_front(run_id: int) -> list[IndividualInfo]:
    """Non-dominated members of the latest population on the run's objectives."""
    return _pareto_front(run_id)


def reset_run(run_id: int, *, new_seed: bool = True) -> RunInfo:
    """Clear a run's history and population (same config; a fresh seed unless
    ``new_seed=False``). The new random population is drawn by the next :func:`evolve`."""
    row = store.get_run_row(run_id)
    cfg = dict(row.config)
    if new_seed:
        cfg["seed"] = random.SystemRandom().randrange(2**31)
    store.clear_run(run_id)
    from sqlalchemy import update

    from engine.db import session_scope
    from engine.evolution.tables import EvolutionRun

    with session_scope() as s:
        s.execute(update(EvolutionRun).where(EvolutionRun.id == run_id)
                  .values(config=EvolutionConfig(**cfg).to_dict(),
                          target_generations=cfg.get("generations")))
    return get_run(run_id)

