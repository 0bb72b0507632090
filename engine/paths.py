"""How file paths are stored in the database, so a lab folder can be moved.

A lab (``lab.db`` plus its data directory) must keep working after it is copied to another
folder, restored from a backup or opened on a new machine. So no absolute path is ever
stored: files inside the data directory are stored relative to it (``datasets/GOOG.parquet``,
``models/lstm-….pt``), bundled samples relative to the samples directory (``SP500.parquet``),
always with forward slashes. Reading resolves the stored text against the current directory.

A stored absolute path (written by a release before paths were relative, or a file that
really lives outside the data directory) is returned unchanged by :func:`resolve_stored`;
the schema migration rewrites the old absolute paths it can re-root.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def to_stored(path: str | Path, base: str | Path) -> str:
    """The text to store for *path*: relative to *base* when inside it, else absolute.

    >>> to_stored("/lab/data/models/a.pt", "/lab/data")
    'models/a.pt'
    """
    p = Path(path).resolve()
    root = Path(base).resolve()
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return p.as_posix()


def resolve_stored(stored: str, base: str | Path) -> Path:
    """The file a stored path names today: *stored* joined to *base* unless it is absolute.

    >>> resolve_stored("models/a.pt", "/lab/data").as_posix()
    '/lab/data/models/a.pt'
    """
    p = PurePosixPath(stored.replace("\\", "/"))
    if p.is_absolute() or Path(stored).is_absolute():
        return Path(stored)
    return Path(base) / Path(*p.parts)


def is_relative_stored(stored: str) -> bool:
    """True when *stored* is in the relative form :func:`to_stored` writes for inner files."""
    return not (PurePosixPath(stored.replace("\\", "/")).is_absolute()
                or Path(stored).is_absolute())
