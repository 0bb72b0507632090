"""Run controls: ``RunInfo.can_*`` say exactly what the engine's controls accept.

For every status a run can have (and every pending request), each flag is compared with the
outcome of actually calling the control on a fresh copy of that run: accepted ↔ no error,
refused ↔ a StratLabError naming the problem and the run left as it was. A hand-written
matrix of the idle cases pins the rules themselves (the page enables buttons from them).
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from engine import evolution as ev
from engine.db import session_scope
from engine.errors import StratLabError
from engine.evolution import store
from engine.evolution.tables import RUN_STATUSES, EvolutionRun
from engine.processes import current_owner


class FakeScheduler:
    """Records add_job calls instead of running the evolution."""

    def __init__(self) -> None:
        self.jobs: list[str] = []

    def add_job(self, func, trigger, *, id, **kwargs):  # noqa: A002 - APScheduler's name
        self.jobs.append(id)


def _run(status: str, requested: str | None) -> int:
    """A run row in ``status`` with ``requested`` pending, owned by this (live) process so a
    running/stopping one is not recovered as interrupted."""
    run_id = store.create_run_row({"symbols": ["X"], "generations": 3})
    me = current_owner()
    with session_scope() as s:
        s.execute(update(EvolutionRun).where(EvolutionRun.id == run_id).values(
            status=status, requested_action=requested, owner_pid=me.pid,
            owner_host=me.host, owner_started=me.started))
    return run_id


def _call(action: str, run_id: int, sched: FakeScheduler) -> None:
    if action == "evolve":
        ev.start_background(run_id, 2, sched=sched)
    elif action == "resume":
        ev.request_resume(run_id, sched=sched)
    elif action == "pause":
        ev.request_pause(run_id)
    else:
        ev.request_stop(run_id)


CASES = [(s, r) for s in RUN_STATUSES for r in (None, "pause", "stop")]


@pytest.mark.parametrize(("status", "requested"), CASES)
def test_each_flag_equals_what_the_engine_accepts(status, requested):
    for action in ("evolve", "resume", "pause", "stop"):
        run_id = _run(status, requested)
        info = ev.get_run(run_id)
        assert (info.status, info.requested_action) == (status, requested)
        flag = getattr(info, f"can_{action}")
        assert info.to_dict()[f"can_{action}"] is flag
        sched = FakeScheduler()
        try:
            _call(action, run_id, sched)
        except StratLabError as exc:
            accepted, message = False, str(exc)
        else:
            accepted, message = True, ""
        assert flag is accepted, (action, status, requested, message)
        after = ev.get_run(run_id)
        if not accepted:
            assert f"evolution run {run_id}" in message and status in message
            assert (after.status, after.requested_action) == (status, requested)
            assert sched.jobs == []


# Hand-written: the rules for a run with no request pending.
#            evolve resume pause  stop
EXPECTED = {
    "created":     (True, False, True, True),   # a queued run's job pauses before it starts
    "running":     (False, False, True, True),
    "paused":      (True, True, False, True),
    "stopping":    (False, False, False, False),  # only waiting: the stop is on its way
    "stopped":     (True, True, False, False),
    "completed":   (True, False, False, False),
    "interrupted": (True, True, False, True),
    "failed":      (True, True, False, False),
}


@pytest.mark.parametrize("status", RUN_STATUSES)
def test_the_rules_for_a_run_with_nothing_pending(status):
    info = ev.get_run(_run(status, None))
    assert (info.can_evolve, info.can_resume, info.can_pause, info.can_stop) == EXPECTED[status]


def test_a_pending_pause_turns_pause_into_resume_on_a_running_run():
    info = ev.get_run(_run("running", "pause"))
    assert (info.can_pause, info.can_resume, info.can_stop) == (False, True, True)
    sched = FakeScheduler()
    assert ev.request_resume(info.id, sched=sched) == f"evolution-{info.id}"
    after = ev.get_run(info.id)
    assert after.status == "running" and after.requested_action is None
    assert sched.jobs == []  # cancelling the pause schedules nothing


def test_accepted_controls_do_what_they_say():
    sched = FakeScheduler()
    rid = _run("paused", None)
    ev.request_resume(rid, sched=sched)
    assert sched.jobs == [f"evolution-{rid}"]
    rid = _run("running", None)
    ev.request_stop(rid)
    assert (ev.get_run(rid).status, ev.get_run(rid).requested_action) == ("stopping", "stop")
    rid = _run("interrupted", None)
    ev.request_stop(rid)
    assert ev.get_run(rid).status == "stopped"
    rid = _run("created", None)
    ev.request_pause(rid)
    assert ev.get_run(rid).requested_action == "pause"


def test_a_refusal_names_what_would_be_accepted():
    rid = _run("completed", None)
    with pytest.raises(StratLabError,
                       match=rf"cannot stop evolution run {rid}: it is completed; stop needs "
                             r"a run that is created or running or paused or interrupted"):
        ev.request_stop(rid)
    rid = _run("running", None)
    with pytest.raises(StratLabError, match=rf"evolution run {rid} is already running; wait"):
        ev.start_background(rid, sched=FakeScheduler())
