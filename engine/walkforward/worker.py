"""Evolving one window — the code every backend runs (in this process, a worker, a Ray task).

Kept import-light at the top so a worker process can set its thread count before numba
loads. A worker receives the lab's location (:func:`lab_env`: data directory, samples
directory, database URL) explicitly, because a forkserver child inherits the environment of
the moment the forkserver started, not of the moment the pool was made.
"""

from __future__ import annotations

import os
from typing import Any

#: The variables that say where the lab is (no secrets travel to workers).
LAB_VARIABLES = ("STRATLAB_DATA_DIR", "STRATLAB_SAMPLES_DIR", "DATABASE_URL")


def lab_env() -> dict[str, str | None]:
    """This process's lab location (``None``: unset)."""
    return {k: os.environ.get(k) for k in LAB_VARIABLES}


def use_lab(env: dict[str, str | None] | None) -> None:
    """Point this process at the lab ``env`` names (settings and database re-read)."""
    if env is None or env == lab_env():
        return
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    from engine import db
    from engine.config import reset_settings

    reset_settings()
    db.dispose_all()


def init_worker(env: dict[str, str | None], numba_threads: int, owner: Any = None) -> None:
    """Process-pool initializer: die with the parent, threads, the lab's location."""
    from engine.processes import die_with_parent

    die_with_parent(owner)
    import numba

    numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))
    use_lab(env)


def evolve_window(analysis_id: int, k: int, env: dict[str, str | None] | None = None
                  ) -> dict[str, Any]:
    """Evolve window ``k``'s in-sample bars (continuing its evolution run where it stopped)
    and store the best genome; a finished window is left as it is. Returns its genes."""
    use_lab(env)
    from engine.errors import StratLabError
    from engine.evolution import evolve
    from engine.walkforward import store

    w = store.window_row(analysis_id, k)
    if w.finished_at is not None:
        return dict(w.params or {})
    if w.evolution_run_id is None:
        raise StratLabError(f"window {k} of walk-forward analysis {analysis_id} has no "
                            "evolution run; create the analysis again")
    summary = evolve(w.evolution_run_id)
    if summary.status != "completed":
        raise StratLabError(
            f"window {k}'s evolution run {w.evolution_run_id} ended {summary.status}; resume "
            f"the walk-forward (`python -m engine walkforward --resume {analysis_id}`)")
    best = summary.best
    store.finish_window(analysis_id, k, params=dict(best["params"]),
                        fitness=best.get("fitness"), in_sample=dict(best.get("in_sample") or {}))
    return dict(best["params"])


def ray_evolve_window(analysis_id: int, k: int, env: dict[str, str | None]) -> dict[str, Any]:
    """The Ray task: one thread of numba per task, then :func:`evolve_window`."""
    import numba

    numba.set_num_threads(1)
    return evolve_window(analysis_id, k, env)
