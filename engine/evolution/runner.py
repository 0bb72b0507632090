"""The evolution loop: initial population, generations, checkpoints, pause/stop, resume.

Generation 0 is the random initial population; each further generation, per island:

1. diversity D → mutation rate (adaptive rule, :mod:`engine.evolution.operators`);
2. single objective: the ``elite_size`` best survive unchanged, ``n − elite_size`` parents
   are chosen by tournament; multi-objective: ``n`` parents by binary tournament on
   (Pareto rank, crowding);
3. parents are cloned, crossed (SBX) and mutated (polynomial), then repaired;
4. every offspring whose genes changed gets a new uid and is evaluated (all islands in one
   batch, in-sample and out-of-sample); an unchanged clone keeps its parent's uid and
   metrics without a new backtest;
5. single: next island = elites + offspring; multi: ``selNSGA2`` over parents + offspring;
6. ring migration every ``migration_interval`` generations (:mod:`engine.evolution.islands`);
7. one transaction writes the generation's statistics, individuals and checkpoint.

A generation runs with the cyclic garbage collector paused (:mod:`engine.gcpause`); it runs
again between generations.

Determinism: all randomness comes from one ``random.Random(seed)`` owned by the run
(saved in every checkpoint); evaluation is a pure function of genome and data. So the same
seed, data and config give the same populations on every backend, and a resumed run
continues exactly as if it had never stopped.

Fitness failures: an individual whose fitness function raises gets ``INVALID_FITNESS``
(−1e9) and its error is kept (``objectives["fitness_error"]`` of its row, counted per
generation by :func:`engine.evolution.store.fitness_failures`); when it raises for *every*
individual evaluated in a generation, the run stops as ``failed`` with that error
(:class:`FitnessFailed`) — a function that never works must not "complete" a run.

Early stop: the call ends once the best fitness reaches ``fitness_threshold`` — unless it
had already reached it when the call began and an explicit ``generations`` count was given
(then that many generations run).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.errors import StratLabError
from engine.evolution import store
from engine.evolution.config import EvolutionConfig
from engine.evolution.evaluate import Windows, load_windows, make_backend
from engine.evolution.state import FitnessFailed, RunState
from engine.gcpause import gc_paused
from engine.progress import ProgressCallback, report
from engine.statements import Statement
from engine.writer import Writer

__all__ = ["EvolutionSummary", "FitnessFailed", "evolve", "run_evolution", "summary"]


@dataclass
class EvolutionSummary:
    """What ``evolve`` returns; ``to_dict()`` is the ``evolve --json`` document."""

    run_id: int
    status: str
    generations_done: int
    evaluations: int
    seconds: float
    split: dict[str, Any]
    best: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    #: individuals whose fitness function raised (not a ``--json`` key: the CLI warns on
    #: stderr; ``evolution history --json`` has the count per generation)
    fitness_failures: int = 0
    fitness_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Exactly the CLI contract keys (``status`` is an attribute only)."""
        return {
            "run_id": self.run_id,
            "generations_done": self.generations_done,
            "evaluations": self.evaluations,
            "seconds": self.seconds,
            "split": {"in_sample_end": self.split.get("in_sample_end"),
                      "out_of_sample_start": self.split.get("out_of_sample_start")},
            "best": {k: self.best.get(k) for k in
                     ("params", "fitness", "in_sample", "out_of_sample")},
            "history": self.history,
        }


@dataclass
class _Prepared:
    """A generation's statements — statistics, individuals, checkpoint, run updates
    (:func:`engine.evolution.store.generation_statements`) — taken from the state as soon as
    it is evaluated, before the next generation's variation moves the state on. They are
    built before that variation starts the next backtests, so that once the backtests are
    submitted this thread's commit is the database's own work, which releases the GIL: the
    helper thread's few Python steps between its compiled calls then get it at once instead
    of waiting for this thread's Python (issue 11)."""

    generation: int
    best: float
    statements: list[Statement]


def _prepare(run: RunState, windows: Windows, fresh: set[int], run_id: int,
             dialect: Any) -> _Prepared:
    stats, inds = run.records(fresh)
    run.update_best()
    combined = stats[0]
    return _Prepared(run.generation, run.best_score, store.generation_statements(
        run_id, dialect, generation=run.generation, stats=stats, individuals=inds,
        checkpoint=run.checkpoint(windows.fingerprint),
        run_updates={
            "evaluations": run.evaluations, "best_fitness": run.best_score,
            "mean_fitness": combined["mean"], "best_uid": run.best_uid, "best": run.best_doc,
            "split": windows.split_dict(), "in_sample_end": windows.in_sample_end,
            "out_of_sample_start": windows.out_of_sample_start,
            "data_fingerprint": windows.fingerprint,
        }))


def evolve(run_id: int, generations: int | None = None, *,
           on_progress: ProgressCallback | None = None) -> EvolutionSummary:
    """Run ``generations`` more generations (default: up to ``config.generations``).

    Honours pause/stop requests between generations; commits every generation; returns
    the run's summary. Raises StratLabError for bad input; a failure inside marks the run
    ``failed`` with the error text.
    """
    store.recover_interrupted()
    row = store.get_run_row(run_id)
    cfg = EvolutionConfig(**row.config)
    if generations is not None and generations < 0:
        raise StratLabError(f"generations must be >= 0, got {generations}")
    started = store.load_checkpoint(run_id) is not None
    # The run's target only grows: "evolve N more" past it raises it, and evolving fewer
    # than the target leaves it as it was ("5 of 10"), never "5 of 5" (issue 10, defect 5).
    run_target = max(cfg.generations, row.target_generations or 0)
    target = ((row.generations_done if started else 0) + generations
              if generations is not None else run_target)
    store.claim(run_id, max(run_target, target))
    t0 = time.perf_counter()
    status = "completed"
    try:
        windows = load_windows(cfg)
        run = RunState(cfg)
        cp = store.load_checkpoint(run_id)
        if cp is not None:
            if cp.get("fingerprint") != windows.fingerprint:
                raise StratLabError(
                    f"the data of run {run_id} changed since it started (fingerprint "
                    f"{cp.get('fingerprint')} → {windows.fingerprint}); reset the run or "
                    "create a new one"
                )
            run.restore(cp, run_id)
        threshold = cfg.fitness_threshold
        reached_before = (threshold is not None and run.best_score is not None
                          and run.best_score >= threshold)
        use_threshold = threshold is not None and not (reached_before and generations)
        planned = max(0, target - max(run.generation, 0)) + (1 if run.generation < 0 else 0)
        backend = None
        writer = Writer()  # one connection for all of the call's commits
        prepared: _Prepared | None = None  # evaluated, not yet committed

        def commit(p: _Prepared) -> str | None:
            """Write ``p``, report it; the run's pause/stop request as of then."""
            nonlocal done_now
            action = writer.transaction(p.statements)  # store.commit_generation's
            done_now += 1
            if on_progress is not None:  # it may take a while, or ask for a pause itself
                epoch = store.request_epoch()
                report(on_progress, done_now, planned,
                       f"generation {p.generation}: best {p.best:.4f}")
                if store.request_epoch() != epoch:  # a request made meanwhile
                    action = store.requested_action(run_id)
            return action

        try:
            done_now = 0
            action = store.requested_action(run_id)  # then as of each generation's commit
            while action not in ("pause", "stop"):
                if run.generation >= 0 and (run.generation >= target or (
                        use_threshold and run.best_score is not None
                        and run.best_score >= threshold)):
                    break
                if backend is None:
                    backend = make_backend(cfg, windows)
                with gc_paused():  # a generation allocates much and frees it by refcount
                    try:
                        flight = run.begin(backend)
                    except BaseException:
                        if prepared is not None:  # the generation before stays
                            commit(prepared)
                        raise
                    if prepared is not None:
                        # the previous generation is written while this one is evaluated
                        action, prepared = commit(prepared), None
                        if action in ("pause", "stop"):
                            flight.discard()  # resumed, it is evaluated again, the same
                            break
                    fresh = run.complete(flight)
                    prepared = _prepare(run, windows, fresh, run_id, writer.dialect)
            if prepared is not None:  # the last generation
                commit(prepared)
            elif action in ("pause", "stop"):
                status = "paused" if action == "pause" else "stopped"
        finally:
            writer.close()
            if backend is not None:
                backend.close()
    except BaseException as exc:
        import traceback

        error = (str(exc) if isinstance(exc, FitnessFailed)  # the fitness's own error
                 else "".join(traceback.format_exception(exc))[-8000:])
        store.finish(run_id, "failed" if isinstance(exc, Exception) else "interrupted",
                     error=error, seconds=time.perf_counter() - t0)
        raise
    store.finish(run_id, status, seconds=time.perf_counter() - t0)
    # a run begun in this call whose fitness never raised has no failure to look up
    return summary(run_id, failures=cp is not None or run.fitness_failures > 0)


def summary(run_id: int, *, failures: bool = True) -> EvolutionSummary:
    """The summary of a run as stored (best individual, split, history). ``failures=False``:
    the caller knows no fitness function raised in the run (nothing to look up)."""
    row = store.get_run_row(run_id)
    failed = store.fitness_failures(run_id) if failures else {}
    hist = [{"generation": g, "best": best, "mean": mean, "worst": worst,
             "diversity": diversity,
             **({"fitness_failures": failed[g]["count"], "fitness_error": failed[g]["error"]}
                if g in failed else {})}
            for g, best, mean, worst, diversity in store.history_rows(run_id)]
    last = failed[max(failed)]["error"] if failed else ""
    return EvolutionSummary(
        run_id=run_id, status=row.status, generations_done=row.generations_done,
        evaluations=row.evaluations, seconds=row.seconds, split=dict(row.split or {}),
        best=dict(row.best or {}), history=hist,
        fitness_failures=sum(f["count"] for f in failed.values()), fitness_error=last,
    )


def run_evolution(config: EvolutionConfig, on_progress: ProgressCallback | None = None
                  ) -> EvolutionSummary:
    """Create a run from ``config`` and evolve it to ``config.generations``."""
    run_id = store.create_run_row(config.to_dict())
    return evolve(run_id, on_progress=on_progress)

