"""numba configuration for every compiled kernel of the backtester: threading layer, cache.

Imported first by each module that defines ``@njit(cache=True)`` kernels (``step``,
``kernel``, ``portfolio_kernel``, ``indicators_nb``, and the evolution's
``engine.evolution.variation``), because both settings must be in place before the first
decorator runs.

**Threading layer.** The "workqueue" layer does not spin-wait: on a 2-core desktop shared
with the UI it runs a 1,000-backtest batch about 3x faster than OpenMP when the machine is
busy. It is not safe for concurrent launches from several threads, so every parallel kernel
call goes through :data:`PARALLEL_LOCK`. Users may still choose a layer with
``NUMBA_THREADING_LAYER``.

**On-disk cache.** numba keys a cached function on its own source file only; it does not
notice an edit to a module the function merely imports constants or other kernels from
(``enums``, ``step``), and would load stale machine code. So the cache lives in a folder
keyed by a hash of *all* ``engine/backtest/*.py`` sources, ``numba-<hash12>`` under
``engine/backtest/__pycache__`` (or, where that is not writable, the user cache directory
``$XDG_CACHE_HOME/strategy-lab`` / ``~/.cache/strategy-lab``); any edit to any of those
files gives a fresh folder, and the folders of older keys are removed. The folder is also
put in ``NUMBA_CACHE_DIR`` (numba re-reads the environment before each compilation; worker
processes inherit it). A ``NUMBA_CACHE_DIR`` the user set wins (numba then uses it as given).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

from numba import config as _numba_config  # noqa: E402

_numba_config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]

#: Held around every parallel kernel launch (the workqueue layer is not re-entrant).
PARALLEL_LOCK = threading.Lock()
#: Below this much work (rows × bars) a kernel runs serially: launching numba's threads
#: costs about 0.5 ms, more than they save on a small batch (measured on GOOG daily: 44
#: genomes 1.7 ms parallel vs 1.4 ms serial, 100 genomes even, 250 genomes 5.2 vs 7.3 ms).
SERIAL_WORK = 200_000

PACKAGE_DIR = Path(__file__).resolve().parent
KEY_PREFIX = "numba-"


def source_files() -> list[Path]:
    """The sources whose edits must invalidate the compiled cache (engine/backtest/*.py)."""
    return sorted(PACKAGE_DIR.glob("*.py"))


def cache_key(files: Iterable[Path] | None = None) -> str:
    """12 hex digits of a SHA-256 over the names and bytes of ``files`` (default: sources)."""
    h = hashlib.sha256()
    for f in (source_files() if files is None else files):
        f = Path(f)
        h.update(f.name.encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def cache_base() -> Path:
    """Where the keyed folders live: the package's __pycache__, else the user cache dir."""
    local = PACKAGE_DIR / "__pycache__"
    if _writable(local):
        return local
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "strategy-lab"


def prune_old_keys(base: Path, keep: str) -> list[Path]:
    """Remove ``numba-*`` folders of ``base`` other than ``keep``; returns what was removed.

    Errors are ignored (another process may be removing the same folder).
    """
    removed = []
    if not base.is_dir():
        return removed
    for p in base.iterdir():
        if p.is_dir() and p.name.startswith(KEY_PREFIX) and p.name != keep:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def configure_cache() -> str | None:
    """Point numba's cache at the keyed folder; None when the user set ``NUMBA_CACHE_DIR``.

    A ``NUMBA_CACHE_DIR`` that is itself a keyed folder of ours (inherited by a worker
    process from the process that started it) is kept and returned.
    """
    given = os.environ.get("NUMBA_CACHE_DIR")
    if given:
        return given if Path(given).name.startswith(KEY_PREFIX) else None
    global KEY
    KEY = cache_key()
    base = cache_base()
    name = KEY_PREFIX + KEY
    folder = base / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # numba falls back to its own locations
    prune_old_keys(base, name)
    # numba re-reads its configuration from the environment before every compilation
    # (config.reload_config), so the folder goes into the environment as well: kernels
    # decorated later in this process, and worker processes started from it, use it too.
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    _numba_config.CACHE_DIR = str(folder)
    return str(folder)


#: The source key the cache folder was chosen with (at import; None with NUMBA_CACHE_DIR).
KEY: str | None = None
#: The cache folder in use (None: the user's NUMBA_CACHE_DIR, or numba's default).
CACHE_DIR = configure_cache()
