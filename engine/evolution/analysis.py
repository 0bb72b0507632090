"""What a run learned: parameter importance, gene distributions, the Pareto front.

- **Parameter importance** of a gene = |Spearman rank correlation| between the gene's value
  and the fitness over every genome evaluated in the run (each uid once; ties get average
  ranks; a gene that never varied scores 0). In [0, 1]; it measures monotone association,
  not causation, and says nothing about interactions between genes.
- **Distribution**: one row per member of every generation's population
  (``generation, island, uid, fitness`` + the 15 genes) — enough to draw how each gene's
  values move over the generations.
- **Pareto front**: the non-dominated members of the latest population on the run's
  objectives (``config.objectives``, all maximised; in single-objective mode too, on the
  objective metrics stored with every individual).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engine.evolution import store
from engine.evolution.genome import GENES


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


def parameter_importance(run_id: int) -> dict[str, float]:
    """``{gene: |Spearman rho(gene, fitness)|}`` over all evaluated genomes (module doc)."""
    rows = store.all_evaluated(run_id)
    if len(rows) < 3:
        return {g: 0.0 for g in GENES}
    fit = np.asarray([r.fitness for r in rows], dtype=np.float64)
    rf = _ranks(fit)
    out = {}
    for g in GENES:
        x = np.asarray([float(r.params[g]) for r in rows])
        if np.all(x == x[0]) or np.all(fit == fit[0]):
            out[g] = 0.0
            continue
        rx = _ranks(x)
        rho = np.corrcoef(rx, rf)[0, 1]
        out[g] = float(abs(rho)) if np.isfinite(rho) else 0.0
    return out


def parameter_distribution(run_id: int) -> pl.DataFrame:
    """Generation × gene values of every population member (module doc)."""
    from sqlmodel import col, select

    from engine.db import session_scope
    from engine.evolution.tables import EvolutionIndividual

    with session_scope() as s:
        q = (select(EvolutionIndividual.generation, EvolutionIndividual.island,
                    EvolutionIndividual.uid, EvolutionIndividual.fitness,
                    EvolutionIndividual.params)
             .where(EvolutionIndividual.run_id == run_id)
             .order_by(col(EvolutionIndividual.generation), col(EvolutionIndividual.id)))
        rows = s.exec(q).all()
    schema: dict[str, Any] = {"generation": pl.Int64, "island": pl.Int64, "uid": pl.Int64,
                              "fitness": pl.Float64}
    schema |= {g: pl.Float64 for g in GENES}
    if not rows:
        return pl.DataFrame(schema=schema)
    data = {
        "generation": [r[0] for r in rows], "island": [r[1] for r in rows],
        "uid": [r[2] for r in rows], "fitness": [r[3] for r in rows],
    }
    for g in GENES:
        data[g] = [float(r[4][g]) for r in rows]
    return pl.DataFrame(data, schema=schema)


def dominates(a: list[float], b: list[float]) -> bool:
    """a Pareto-dominates b (all objectives maximised)."""
    return (all(x >= y for x, y in zip(a, b, strict=False))
            and any(x > y for x, y in zip(a, b, strict=False)))


def non_dominated(points: list[list[float]]) -> list[int]:
    """Indices of the non-dominated points (duplicates all kept)."""
    return [i for i, p in enumerate(points)
            if not any(dominates(q, p) for j, q in enumerate(points) if j != i)]


def pareto_front(run_id: int) -> list[store.IndividualInfo]:
    """The non-dominated members of the latest population (distinct uids)."""
    row = store.get_run_row(run_id)
    objectives = list(row.config.get("objectives") or [])
    seen: set[int] = set()
    inds = []
    for r in store.individuals_of(run_id):
        if r.uid not in seen:
            seen.add(r.uid)
            inds.append(store.individual_info(r))
    pts = [[_num(i.objectives.get(o)) for o in objectives] for i in inds]
    return [inds[k] for k in non_dominated(pts)]


def _num(v: Any) -> float:
    return float(v) if v is not None else -1e9
