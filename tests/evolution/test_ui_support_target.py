"""Evolving N more generations adds to a run's target and never shrinks it (issue 10 #5).

A run created with ``generations=3`` and evolved by 1 read "1 of 1 · completed" before:
the call's N overwrote the run's target. Now the target stays 3 ("1 of 3"), a later call
without N evolves up to 3, and evolving past it raises the target (3 done + 2 → 5).
"""

from __future__ import annotations

from engine import evolution as ev


def test_evolve_n_keeps_the_target_and_adds_past_it(small):
    run_id = ev.create_run(small(generations=3, population_size=8))
    ev.evolve(run_id, 1)  # generation 0 (initial) + 1 step
    info = ev.get_run(run_id)
    assert info.generations_done == 1
    assert info.target_generations == 3  # not 1
    assert info.progress == 1 / 3

    ev.evolve(run_id)  # no N: up to the run's target
    info = ev.get_run(run_id)
    assert (info.generations_done, info.target_generations) == (3, 3)

    ev.evolve(run_id, 2)  # past the target: 3 + 2 = 5
    info = ev.get_run(run_id)
    assert (info.generations_done, info.target_generations) == (5, 5)

    ev.evolve(run_id)  # to the (raised) target: nothing left to do, target kept
    info = ev.get_run(run_id)
    assert (info.generations_done, info.target_generations) == (5, 5)
