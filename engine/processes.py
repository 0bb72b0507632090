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
