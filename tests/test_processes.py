"""Owner liveness for background runs: dead pids, reused pids, other hosts."""

import os
import subprocess
import sys

from engine.processes import current_owner, owner_alive, process_start_time


def test_this_process_is_alive_and_a_finished_one_is_not():
    me = current_owner()
    assert me.pid == os.getpid() and owner_alive(me.pid, me.host, me.started)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not owner_alive(child.pid, me.host, None)
    assert not owner_alive(None)


def test_a_reused_pid_with_another_start_time_is_not_the_owner():
    me = current_owner()
    assert me.started == process_start_time(me.pid)
    assert not owner_alive(me.pid, me.host, me.started + 1000.0)


def test_another_host_cannot_be_checked_and_counts_as_alive():
    assert owner_alive(999_999, "some-other-machine", None)
