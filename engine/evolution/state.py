"""The in-memory state of an evolution run between two generations (:class:`RunState`):
its islands of DEAP individuals, the run's one ``random.Random``, the operators, how a
generation is evaluated and varied, the rows a generation stores and the checkpoint it can
be resumed from. :mod:`engine.evolution.runner` drives it (see the loop described there).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from engine.db import encode_json_many
from engine.errors import StratLabError
from engine.evolution import store
from engine.evolution.config import EvolutionConfig
from engine.evolution.fitness import INVALID_FITNESS, get_fitness, objective_values
from engine.evolution.genome import diversity, random_genes, to_params
from engine.evolution.islands import ring_migrate, should_migrate
from engine.evolution.operators import (
    Operators,
    adaptive_rate,
    best,
    individual_class,
    nsga2_survivors,
)

CHECKPOINT_VERSION = 1


class FitnessFailed(StratLabError):
    """The fitness function raised for every individual evaluated in a generation."""


@dataclass
class InFlight:
    """A generation whose new individuals are being evaluated (:meth:`RunState.begin`)."""

    generation: int
    first_uid: int  # the uid of its first new individual (the others follow in order)
    inds: list  # its new individuals, in the order submitted
    pending: Any  # the backend's handle (``result()``); None when nothing was submitted
    offspring_of: list[tuple[list, list]] | None  # per island (elites, kids); None: initial

    def discard(self) -> None:
        """Drop the generation (the run pauses before it is stored): wait for its
        evaluation to end so nothing runs on after the backend closes; its outcome, an
        error included, is not wanted (a resumed run evaluates it again, the same)."""
        if self.pending is not None:
            try:
                self.pending.result()
            except Exception:  # noqa: BLE001 - the generation is dropped either way
                pass


def checked_score(fn, metrics) -> tuple[float, str]:
    """``fn(metrics)`` as a finite float, and the error text when the call (or turning its
    result into a float) raised — that individual then gets ``INVALID_FITNESS``. A
    non-finite result is ``INVALID_FITNESS`` too, but not an error (a flat equity curve
    has no Sharpe ratio)."""
    try:
        v = float(fn(metrics))
    except Exception as exc:  # a user's function may raise anything
        return INVALID_FITNESS, f"{type(exc).__name__}: {exc}"[:500]
    return (v if math.isfinite(v) else INVALID_FITNESS), ""


class RunState:
    """In-memory state of a run between two generations."""

    def __init__(self, cfg: EvolutionConfig) -> None:
        self.cfg = cfg
        self.multi = cfg.objective == "multi"
        self.cls = individual_class(cfg.n_objectives)
        self.rng = random.Random(cfg.seed)
        self.ops = Operators(self.rng, sbx_eta=cfg.sbx_eta, mutation_eta=cfg.mutation_eta,
                             tournament_size=cfg.tournament_size)
        self.fitness_fn = get_fitness(cfg.fitness)
        self.islands: list[list] = []
        self.rates = [cfg.mutation_rate] * cfg.islands
        self.generation = -1
        self.next_uid = 1
        self.evaluations = 0
        self.best_uid: int | None = None
        self.best_score: float | None = None
        self.best_doc: dict[str, Any] = {}
        self.fitness_failures = 0  # individuals whose fitness raised, all generations
        self.fitness_error = ""  # the latest such error
        #: each island's diversity as recorded for the last generation (its population is
        #: unchanged until the next step, which reads it instead of computing it again)
        self._diversity: list[float] | None = None

    # ------------------------------------------------------------------ individuals
    def new(self, genes: list, *, born: int, parents: list[int]) -> Any:
        return self.renew(self.cls(genes), born=born, parents=parents)

    def renew(self, ind: Any, *, born: int, parents: list[int]) -> Any:
        """``ind`` as a new, unevaluated individual with the next uid: a fresh one, or a clone
        whose genes variation changed (no second object is built for it)."""
        del ind.fitness.values
        ind.uid = self.next_uid
        self.next_uid += 1
        ind.born, ind.parents = born, parents
        ind.is_m, ind.oos_m, ind.folds, ind.score = {}, None, [], None
        ind.evaluated_at, ind.fitness_error = born, ""
        ind.row_json, ind.params = None, None
        return ind

    def clone(self, ind: Any) -> Any:
        """A copy to vary: its own gene list and fitness, the rest shared (never mutated in
        place). What ``toolbox.clone`` (a deepcopy) gives, at a tenth of the cost."""
        c = self.cls.__new__(self.cls)
        list.extend(c, ind)
        c.__dict__.update(ind.__dict__)
        fit = ind.fitness
        c.fitness = f = fit.__class__.__new__(fit.__class__)
        f.wvalues = fit.wvalues  # a tuple; empty when not evaluated (DEAP's invalid)
        return c

    def submit(self, backend, inds: list) -> Any:
        """Start evaluating ``inds`` on ``backend``; the handle's ``result()`` gives the
        metrics (None when there is nothing to evaluate)."""
        if not inds:
            return None
        for ind in inds:
            ind.params = to_params(ind)
        return backend.submit([ind.params for ind in inds])

    def absorb(self, inds: list, res: dict[str, list[dict]], generation: int) -> None:
        """Give ``inds`` their metrics ``res`` (from the backend), scores and fitness."""
        if not inds:
            return
        cfg = self.cfg
        n_folds = cfg.walk_forward_folds or 0
        errors = []
        for k, ind in enumerate(inds):
            ind.is_m = res["is"][k]
            ind.oos_m = res["oos"][k] if "oos" in res else None
            scored = [checked_score(self.fitness_fn, res[f"fold{j}"][k])
                      for j in range(n_folds)] or [checked_score(self.fitness_fn, ind.is_m)]
            ind.folds = [v for v, _ in scored] if n_folds else []
            ind.score = sum(v for v, _ in scored) / len(scored)
            ind.fitness_error = next((e for _, e in scored if e), "")
            if ind.fitness_error:
                ind.score = INVALID_FITNESS
                errors.append(ind.fitness_error)
            if self.multi:
                ind.fitness.values = objective_values(ind.is_m, cfg.objectives)
            else:
                ind.fitness.values = (ind.score,)
            ind.row_json = None
        if errors and len(errors) == len(inds):
            raise FitnessFailed(
                f"the fitness {cfg.fitness!r} raised for every individual of generation "
                f"{generation} ({len(errors)} of {len(inds)}), e.g. {errors[0]}; the run "
                "stops — fix the function (it receives the in-sample metrics dict and "
                "returns a number) or choose another fitness")
        self.fitness_failures += len(errors)
        if errors:
            self.fitness_error = errors[-1]
        self.evaluations += len(inds)

    def objectives_doc(self, ind: Any) -> dict[str, Any]:
        d: dict[str, Any] = {o: ind.is_m.get(o) for o in self.cfg.objectives}
        if ind.folds:
            d["fold_fitness"] = list(ind.folds)
        if ind.fitness_error:
            d["fitness_error"] = ind.fitness_error
        return d

    # ------------------------------------------------------------------ generations
    def begin(self, backend) -> InFlight:
        """Build the next generation's new individuals and start their evaluation: the
        random initial population, or (step 1–3 of the loop) selection and variation.
        Nothing else of the state changes until :meth:`complete`."""
        cfg, g, first = self.cfg, self.generation + 1, self.next_uid
        if g == 0:
            for size in cfg.island_sizes:
                self.islands.append([self.new(random_genes(self.rng), born=0, parents=[])
                                     for _ in range(size)])
            fresh = [i for pop in self.islands for i in pop]
            return InFlight(g, first, fresh, self.submit(backend, fresh), None)
        fresh, offspring_of = [], []
        divs = self._diversity or [diversity(pop) for pop in self.islands]
        self._diversity = None
        for k, pop in enumerate(self.islands):
            n = len(pop)
            self.rates[k] = adaptive_rate(cfg.mutation_rate, divs[k],
                                          cfg.target_diversity, cfg.max_mutation_rate,
                                          cfg.adaptive_mutation)
            if self.multi:
                elites, parents = [], self.ops.nsga2_parents(pop, n)
            else:
                elites = best(pop, cfg.elite_size) if cfg.elite_size else []
                parents = self.ops.tournament(pop, n - len(elites))
            kids = [self.clone(p) for p in parents]
            crossed, changed = self.ops.vary(kids, cfg.crossover_rate, self.rates[k])
            for j, kid in enumerate(kids):
                if not changed[j]:
                    continue
                if crossed[j]:
                    mate = parents[j + 1] if j % 2 == 0 else parents[j - 1]
                    pu = [parents[j].uid, mate.uid]
                else:
                    pu = [parents[j].uid]
                fresh.append(self.renew(kid, born=g, parents=pu))
            offspring_of.append((elites, kids))
        return InFlight(g, first, fresh, self.submit(backend, fresh), offspring_of)

    def complete(self, flight: InFlight) -> set[int]:
        """Finish the generation :meth:`begin` started: its metrics, then (steps 5–6)
        survivors and migration. Returns the uids evaluated in it that are in the new
        population."""
        g = flight.generation
        res = flight.pending.result() if flight.pending is not None else {}
        self.absorb(flight.inds, res, g)
        if flight.offspring_of is not None:
            cfg = self.cfg
            for k, (elites, kids) in enumerate(flight.offspring_of):
                if self.multi:
                    self.islands[k] = nsga2_survivors(self.islands[k] + kids,
                                                      len(self.islands[k]))
                else:
                    self.islands[k] = list(elites) + kids
            if should_migrate(g, cfg.islands, cfg.migration_interval, cfg.migration_size):
                ring_migrate(self.islands, cfg.migration_size, multi=self.multi,
                             clone=self.clone)
        self.generation = g
        return {i.uid for pop in self.islands for i in pop if i.uid >= flight.first_uid}

    # ------------------------------------------------------------------ records
    def update_best(self) -> None:
        for pop in self.islands:
            for ind in pop:
                if self.best_score is None or ind.score > self.best_score:
                    self.best_score, self.best_uid = ind.score, ind.uid
                    self.best_doc = {"uid": ind.uid, "params": ind.params,
                                     "fitness": ind.score, "in_sample": ind.is_m,
                                     "out_of_sample": ind.oos_m}

    def row_json(self, ind: Any) -> dict[str, Any]:
        """The parts of an individual's row that never change once it is evaluated, its
        JSON encoded once: a survivor is stored again in every generation it lives."""
        if ind.row_json is None:
            params, objectives, is_m, parents, *oos = encode_json_many(
                [ind.params, self.objectives_doc(ind), ind.is_m, list(ind.parents)]
                + ([ind.oos_m] if ind.oos_m is not None else []))
            ind.row_json = {"params": params, "objectives": objectives, "in_sample": is_m,
                            "out_of_sample": oos[0] if oos else None, "parents": parents}
        return ind.row_json

    def records(self, fresh_uids: set[int]) -> tuple[list[dict], list[dict]]:
        g = self.generation
        inds, stats = [], []
        everyone = []
        divs = self._diversity = [diversity(pop) for pop in self.islands]
        for k, pop in enumerate(self.islands):
            scores = [i.score for i in pop]
            stats.append({"island": k, "best": max(scores), "mean": sum(scores) / len(scores),
                          "worst": min(scores), "diversity": divs[k],
                          "mutation_rate": self.rates[k] if g > 0 else None,
                          "evaluations": sum(1 for i in pop if i.uid in fresh_uids),
                          "n_individuals": len(pop)})
            everyone.extend(pop)
            for ind in pop:
                inds.append({
                    "uid": ind.uid, "island": k, "born": ind.born, "age": g - ind.born,
                    "fitness": ind.score, "evaluated": ind.uid in fresh_uids,
                    **self.row_json(ind),
                })
        scores = [i.score for i in everyone]
        rates = [self.rates[k] for k in range(len(self.islands))]
        combined = {"island": -1, "best": max(scores), "mean": sum(scores) / len(scores),
                    "worst": min(scores),
                    "diversity": diversity(everyone) if len(self.islands) > 1 else divs[0],
                    "mutation_rate": (sum(rates) / len(rates)) if g > 0 else None,
                    "evaluations": len(fresh_uids), "n_individuals": len(everyone)}
        rows = [combined] + (stats if len(self.islands) > 1 else [])
        return rows, inds

    def checkpoint(self, fingerprint: str) -> dict[str, Any]:
        state = self.rng.getstate()
        return {
            "version": CHECKPOINT_VERSION,
            "generation": self.generation,
            "rng": [state[0], list(state[1]), state[2]],
            "next_uid": self.next_uid,
            "evaluations": self.evaluations,
            "rates": list(self.rates),
            "fingerprint": fingerprint,
            "best": {"uid": self.best_uid, "score": self.best_score},
            "fitness_failures": self.fitness_failures, "fitness_error": self.fitness_error,
            "islands": [[{"uid": i.uid, "genes": list(i), "values": list(i.fitness.values),
                          "score": i.score, "born": i.born, "parents": list(i.parents),
                          "folds": list(i.folds)} for i in pop] for pop in self.islands],
        }

    def restore(self, cp: dict[str, Any], run_id: int) -> None:
        if cp.get("version") != CHECKPOINT_VERSION:
            raise StratLabError(f"run {run_id}'s checkpoint has an unknown format; reset it")
        v, st, gauss = cp["rng"]
        self.rng.setstate((v, tuple(st), gauss))
        self.generation, self.next_uid = cp["generation"], cp["next_uid"]
        self.evaluations, self.rates = cp["evaluations"], list(cp["rates"])
        uids = [d["uid"] for pop in cp["islands"] for d in pop]
        rows = store.rows_by_uid(run_id, sorted(set(uids)))
        self.islands = []
        for pop in cp["islands"]:
            out = []
            for d in pop:
                ind = self.cls(d["genes"])
                ind.fitness.values = tuple(d["values"])
                ind.uid, ind.born, ind.parents = d["uid"], d["born"], d["parents"]
                ind.score, ind.folds = d["score"], list(d.get("folds") or [])
                row = rows[d["uid"]]
                ind.is_m, ind.oos_m = dict(row.in_sample), row.out_of_sample
                ind.evaluated_at = d["born"]
                ind.fitness_error = (row.objectives or {}).get("fitness_error") or ""
                ind.row_json, ind.params = None, to_params(ind)
                out.append(ind)
            self.islands.append(out)
        self.fitness_failures = int(cp.get("fitness_failures") or 0)
        self.fitness_error = cp.get("fitness_error") or ""
        b = cp.get("best") or {}
        self.best_uid, self.best_score = b.get("uid"), b.get("score")
        if self.best_uid is not None:
            r = store.individual_row(run_id, self.best_uid)
            self.best_doc = {"uid": r.uid, "params": dict(r.params), "fitness": r.fitness,
                             "in_sample": dict(r.in_sample), "out_of_sample": r.out_of_sample}
