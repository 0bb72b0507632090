"""SQLite's write-ahead log checkpointed on a background thread, not inside a commit.

In WAL mode SQLite copies the log back into the database file — a *checkpoint* — once the
log passes ``wal_autocheckpoint`` pages (1,000 by default), and it does so inside the commit
that crossed the line: that commit then also pays for two ``fsync`` calls. An evolution
writes a generation every few milliseconds; measured on GOOG daily, 500 individuals a
generation, every fourth commit took 15–18 ms instead of 2 ms for that reason (about 6 % of
the run). SQLite's documentation suggests the remedy used here: automatic checkpoints are
moved far out (:data:`AUTOCHECKPOINT_PAGES`, a bound for a process that has no checkpointer
running) and one daemon thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` shortly after
commits (:data:`DELAY_S`, so a burst of commits shares one). A passive checkpoint waits for
no reader or writer, and it is one call into SQLite, which releases the GIL for all of it,
so it runs beside the writer instead of in its way. A checkpoint interrupted by a crash is
redone by the next one: the log stays the source of truth until it is copied.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

__all__ = ["AUTOCHECKPOINT_PAGES", "DELAY_S", "checkpointer", "WalCheckpointer"]

#: ``PRAGMA wal_autocheckpoint`` of the lab's connections: the log (4 KiB pages, so 64 MiB)
#: a commit would checkpoint itself past — reached only when no checkpointer keeps up.
AUTOCHECKPOINT_PAGES = 16_384

#: Seconds from the first commit the checkpointer hears of to its checkpoint.
DELAY_S = 0.25


class WalCheckpointer:
    """One daemon thread checkpointing the databases it is told were written."""

    def __init__(self, delay_s: float = DELAY_S) -> None:
        self.delay_s = delay_s
        self._due: dict[int, tuple[Engine, Path]] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # checkpoints run (tests and the System page read it)

    def written(self, eng: Engine, path: Path) -> None:
        """A commit on ``eng`` (the SQLite file ``path``) added to its log."""
        with self._cond:
            if id(eng) not in self._due:
                self._due[id(eng)] = (eng, path)
                self._cond.notify()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="sqlite-wal-checkpoint",
                                                daemon=True)
                self._thread.start()

    def forget(self, eng: Engine) -> None:
        """Drop a pending checkpoint of ``eng`` (it is being disposed)."""
        with self._cond:
            self._due.pop(id(eng), None)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._due:
                    self._cond.wait()
            time.sleep(self.delay_s)
            with self._cond:
                due, self._due = list(self._due.values()), {}
            for eng, path in due:
                self._checkpoint(eng, path)

    def _checkpoint(self, eng: Engine, path: Path) -> None:
        if not path.exists():  # removed meanwhile: connecting would create an empty one
            return
        try:
            raw = eng.raw_connection()
            try:
                # pysqlite autocommits here (isolation_level None): no BEGIN around it
                raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                raw.close()
            self.checkpoints += 1
        except Exception as exc:  # noqa: BLE001 - a read-only or vanished lab: the next commit
            log.debug("WAL checkpoint of %s skipped: %s", path, exc)  # checkpoints itself


_CHECKPOINTER = WalCheckpointer()


def checkpointer() -> WalCheckpointer:
    """The process's checkpointer."""
    return _CHECKPOINTER
