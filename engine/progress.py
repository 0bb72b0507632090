"""The progress-callback contract used by every long-running engine call.

Long work (sweeps, evolution, training, replays) takes ``on_progress(done, total, message)``;
pages turn it into ``st.progress``, the command line into a line on stderr and background
jobs into a database row. ``None`` means "nobody is listening".
"""

from __future__ import annotations

from typing import Protocol


class ProgressCallback(Protocol):
    def __call__(self, done: int, total: int, message: str = "") -> None: ...


def report(cb: ProgressCallback | None, done: int, total: int, message: str = "") -> None:
    """Call ``cb`` if there is one; a tiny helper so call sites stay one line."""
    if cb is not None:
        cb(done, total, message)
