"""Is the process that owns a background run still alive?

Evolution runs, training runs and retrains record their owner as (pid, host, start time).
A run whose owner died (killed app, crashed subprocess) must be seen as *interrupted*, not
left "running" forever — but a pid can be reused by an unrelated process, so the start time
(Linux ``/proc/<pid>/stat`` field 22, clock ticks since boot; elsewhere psutil when
installed) tells the original owner apart. Another host's process cannot be checked and is
assumed alive.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    """Who runs a piece of background work."""

    pid: int
    host: str
    started: float | None


def process_start_time(pid: int) -> float | None:
    """The start time of ``pid`` (comparable only with values from this function)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode(errors="replace")
        return float(text.rsplit(")", 1)[1].split()[19])
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None  # Linux, and the process is gone
    except (OSError, IndexError, ValueError):
        return None
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:
        return None


def current_owner() -> Owner:
    """This process, as it should be recorded on a run it starts."""
    pid = os.getpid()
    return Owner(pid, socket.gethostname(), process_start_time(pid))


def pid_running(pid: int) -> bool:
    """The pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().decode(errors="replace").rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def owner_alive(pid: int | None, host: str | None = None, started: float | None = None) -> bool:
    """Whether the recorded owner still runs (``False`` when no pid was recorded)."""
    if pid is None:
        return False
    if host and host != socket.gethostname():
        return True  # another machine: cannot tell, assume alive
    if not pid_running(pid):
        return False
    if started is not None:
        now = process_start_time(pid)
        if now is not None and abs(now - started) > 1e-3:
            return False  # the pid now belongs to another process
    return True


# ------------------------------------------------------------------ worker pools

#: how often a worker's watchdog checks that its parent still runs (seconds)
WATCHDOG_INTERVAL = 0.5
#: ``prctl`` option: the signal a Linux process gets when its parent dies
PR_SET_PDEATHSIG = 1


def die_with_parent(owner: Owner | None = None, *, interval: float = WATCHDOG_INTERVAL
                    ) -> None:
    """Make this (worker) process end when its parent, or ``owner``, ends.

    Two layers, because a ``kill -9`` of the parent runs no clean-up code at all:

    - Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ctypes — the kernel kills this
      process the moment its parent (the process that forked it: the multiprocessing
      forkserver, which itself exits when the pool's owner dies) goes away;
    - everywhere: a daemon watchdog thread that exits the process within ``interval``
      seconds once its parent pid changes (it was re-parented, so the parent died) or
      ``owner`` (the process that created the pool) no longer runs.
    """
    import signal
    import sys
    import threading

    ppid = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog alone covers it
            pass
    if os.getppid() != ppid:  # the parent died before the signal was armed
        os._exit(1)

    def watchdog() -> None:
        import time

        while True:
            time.sleep(interval)
            if os.getppid() != ppid or (
                    owner is not None and not owner_alive(owner.pid, owner.host, owner.started)):
                os._exit(1)

    threading.Thread(target=watchdog, name="die-with-parent", daemon=True).start()


def _pool_dir(folder=None):
    from pathlib import Path

    if folder is not None:
        return Path(folder)
    from engine.config import get_settings

    return get_settings().data_dir / "pools"


def mp_context(preload: tuple[str, ...] = ()):
    """The start method for worker pools: ``forkserver`` (preloading ``preload``) where the
    platform has it, else ``spawn`` — never ``fork``, since the app process has threads."""
    import multiprocessing as mp

    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        if preload:
            ctx.set_forkserver_preload(list(preload))
        return ctx
    return mp.get_context("spawn")


def record_pool(kind: str, pids: list[int], folder=None):
    """Write down a worker pool (its owner and the workers' pids and start times) so that a
    later start can end the workers should the owner be killed without cleaning up
    (:func:`reap_stale_pools`). Returns the record's path (pass it to :func:`forget_pool`)."""
    import json
    import uuid

    me = current_owner()
    doc = {"kind": kind, "owner": {"pid": me.pid, "host": me.host, "started": me.started},
           "workers": [{"pid": int(p), "started": process_start_time(int(p))} for p in pids]}
    folder = _pool_dir(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}-{me.pid}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(doc))
    except OSError:  # a read-only data directory: the parent-death signal still applies
        return None
    return path


def forget_pool(path) -> None:
    """The pool was shut down cleanly: drop its record."""
    if path is not None:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def reap_stale_pools(folder=None) -> list[int]:
    """End the workers of pools whose owner died (kill -9, a crash) and drop their records;
    return the pids ended. A worker is ended only while its pid still has the start time
    recorded (a reused pid belongs to someone else); another host's pools are left alone."""
    import json
    import signal

    folder = _pool_dir(folder)
    ended: list[int] = []
    try:
        records = sorted(folder.glob("*.json"))
    except OSError:
        return ended
    for path in records:
        try:
            doc = json.loads(path.read_text())
            owner = doc["owner"]
            workers = list(doc.get("workers") or [])
        except (OSError, ValueError, KeyError, TypeError):
            forget_pool(path)
            continue
        if owner.get("host") and owner["host"] != socket.gethostname():
            continue
        if owner_alive(owner.get("pid"), owner.get("host"), owner.get("started")):
            continue
        for w in workers:
            pid = int(w.get("pid") or 0)
            # only a pid whose start time is known can be told from a reused one
            if (pid and w.get("started") is not None and pid != os.getpid()
                    and owner_alive(pid, None, w["started"])):
                try:
                    os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
                    ended.append(pid)
                except OSError:
                    pass
        forget_pool(path)
    return ended
