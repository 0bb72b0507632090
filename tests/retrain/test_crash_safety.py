"""A killed ``retrain now`` never stays ``running`` (issue 9, item 12): every entry point that
lists or starts retrains recovers dead owners first, without the scheduler."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlmodel import select

from engine import retrain
from engine.cli import main
from engine.config import PROJECT_ROOT
from engine.db import session_scope
from engine.retrain.tables import RetrainLock, RetrainRecord
from tests.registry.factories import make_version

# a process that starts a retrain the way ``retrain now`` does (lock, then a running record
# with its owner), says so, and hangs until it is killed
HOLDER = """
import sys, time
from engine.db import init_db, session_scope
from engine.processes import current_owner
from engine.retrain.locks import acquire
from engine.retrain.tables import RetrainLock, RetrainRecord
init_db()
version, model = sys.argv[1], sys.argv[2]
acquire(model)
me = current_owner()
with session_scope() as s:
    rec = RetrainRecord(version_id=version, model_name=model, status="running",
                        owner_pid=me.pid, details={"owner": {"host": me.host,
                                                             "started": me.started}})
    s.add(rec)
    s.flush()
    s.get(RetrainLock, model).record_id = rec.id
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def killed_retrain():
    """A version whose retrain was running in a process that was then killed (-9)."""
    v = make_version()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, v.version_id, v.model_name],
                            cwd=str(PROJECT_ROOT), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        with session_scope() as s:  # the state a kill -9 of `retrain now` leaves
            assert [r.status for r in s.exec(select(RetrainRecord)).all()] == ["running"]
            assert s.get(RetrainLock, v.model_name) is not None
    finally:
        proc.kill()
        proc.wait(30)
    return v


def _statuses() -> list[str]:
    with session_scope() as s:
        return [r.status for r in s.exec(select(RetrainRecord)).all()]


def test_retrain_queue_on_the_command_line_recovers_a_killed_retrain(killed_retrain, capsys):
    assert main(["retrain", "queue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # no longer "running" in the queue
    assert main(["retrain", "history", "--json"]) == 0
    [rec] = json.loads(capsys.readouterr().out)
    assert rec["status"] == "interrupted" and rec["decision"] == "failed"
    assert rec["error"] == "the process running this retrain stopped"
    with session_scope() as s:
        assert s.get(RetrainLock, killed_retrain.model_name) is None


@pytest.mark.parametrize("entry", ["queue", "history", "enqueue", "retrain_now"])
def test_every_entry_point_recovers_dead_owners_first(killed_retrain, entry, fake):
    if entry == "queue":
        assert retrain.queue() == []
    elif entry == "history":
        assert [r.status for r in retrain.history()] == ["interrupted"]
    elif entry == "enqueue":  # not refused as "already running" by a dead process
        assert retrain.enqueue(killed_retrain.version_id).status == "queued"
    else:
        fake.evals[killed_retrain.version_id] = {"accuracy": 0.6, "return_pct": 5.0, "n": 90}
        rec = retrain.retrain_now(killed_retrain.version_id)
        assert rec.status in ("deployed", "kept"), rec.error
    assert _statuses()[0] == "interrupted"


def test_a_live_owner_is_left_running():
    import os

    from engine.processes import current_owner

    v = make_version()
    me = current_owner()
    with session_scope() as s:
        s.add(RetrainRecord(version_id=v.version_id, model_name=v.model_name,
                            status="running", owner_pid=os.getpid(),
                            details={"owner": {"host": me.host, "started": me.started}}))
    assert [r.status for r in retrain.queue()] == ["running"]


def test_a_reused_pid_is_not_taken_for_the_owner():
    import os

    from engine.processes import current_owner

    v = make_version()
    me = current_owner()
    with session_scope() as s:  # this pid, but another process start time: pid reused
        s.add(RetrainRecord(version_id=v.version_id, model_name=v.model_name,
                            status="running", owner_pid=os.getpid(),
                            details={"owner": {"host": me.host,
                                               "started": (me.started or 0) - 50.0}}))
    assert retrain.queue() == [] and _statuses() == ["interrupted"]
