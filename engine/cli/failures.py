"""Failures of the environment, named with their fix (never "internal error").

The command line's catch-all used to print ``internal error <Type>: … please report it``
for problems that are not bugs but the machine's state: a ``DATABASE_URL`` that does not
parse or whose server does not answer, a missing database driver, a database path that
is a directory, a CSV or a corrupt file, a read-only data directory, a data directory
that is a file, a Ray cluster that cannot be reached. :func:`explain` turns such an
exception into one line naming the problem and the setting or command that fixes it, or
returns None for a genuine internal error. A password in a URL is never shown: URLs are
printed with ``render_as_string(hide_password=True)`` and any driver message is scrubbed.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import traceback
from pathlib import Path
from typing import Any

#: Database drivers SQLAlchemy imports, and the package that provides each.
DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary", "psycopg": "psycopg[binary]", "pg8000": "pg8000",
    "asyncpg": "asyncpg", "MySQLdb": "mysqlclient", "pymysql": "pymysql",
    "mysql": "mysql-connector-python", "oracledb": "oracledb", "cx_Oracle": "cx_Oracle",
    "pyodbc": "pyodbc", "pymssql": "pymssql",
}
_DB_EXAMPLE = ("sqlite:////absolute/path/lab.db or postgresql+psycopg://user:password@host/db, "
               "or unset it (the lab then uses STRATLAB_DATA_DIR/lab.db)")


def explain(exc: BaseException) -> str | None:
    """One line naming the problem behind ``exc`` and its fix; None for an internal error."""
    for step in (_ray, _sqlalchemy, _sqlite, _missing_module, _os_error):
        msg = step(exc)
        if msg:
            return _scrub(msg)
    return None


# ------------------------------------------------------------------------------ helpers

def _settings() -> Any | None:
    try:
        from engine.config import get_settings

        return get_settings().storage
    except Exception:  # a bad setting is reported by its own check
        return None


def _raw_url() -> str | None:
    storage = _settings()
    if storage is not None:
        return storage.database_url
    return os.environ.get("DATABASE_URL") or None


def _shown_url() -> str:
    """The database URL with its password hidden (``***``); never the raw text."""
    raw = _raw_url()
    if not raw:
        return "the database"
    try:
        from sqlalchemy.engine import make_url

        return make_url(raw).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL (not shown: it does not parse)"


def _password() -> str | None:
    raw = _raw_url()
    if not raw:
        return None
    try:
        from sqlalchemy.engine import make_url

        return make_url(raw).password or None
    except Exception:
        return None


def _scrub(msg: str) -> str:
    pw = _password()
    if pw and len(pw) >= 1:
        msg = msg.replace(pw, "***")
    return " ".join(msg.split())  # one line


def _sqlite_path() -> Path | None:
    raw = _raw_url()
    if not raw:
        return None
    try:
        from sqlalchemy.engine import make_url

        url = make_url(raw)
    except Exception:
        return None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _raised_in(exc: BaseException, package: str) -> bool:
    """Whether a frame of ``exc``'s traceback is in ``package`` (an installed library)."""
    marker = f"{os.sep}{package}{os.sep}"
    return any(marker in frame.filename and "site-packages" in frame.filename
               for frame in traceback.extract_tb(exc.__traceback__))


# ------------------------------------------------------------------------------ the steps

def _ray(exc: BaseException) -> str | None:
    if isinstance(exc, ModuleNotFoundError) or not _raised_in(exc, "ray"):
        return None
    return (f"the Ray backend could not start ({type(exc).__name__}: {_first_line(exc)[:200]}); "
            "start a cluster (`ray start --head`), set STRATLAB_RAY_ADDRESS to a running one "
            "(or unset it), or use --backend process")


def _sqlalchemy(exc: BaseException) -> str | None:
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        return None
    if isinstance(exc, sa_exc.NoSuchModuleError):
        dialect = str(exc).rsplit(":", 1)[-1].strip()
        return (f"DATABASE_URL {_shown_url()} names the database dialect {dialect!r}, which "
                f"SQLAlchemy does not know; set DATABASE_URL to {_DB_EXAMPLE}")
    if isinstance(exc, sa_exc.ArgumentError) and "URL" in str(exc):
        # the raw text may hold a password: it is not repeated
        return (f"DATABASE_URL is not a database URL SQLAlchemy can parse; set it to "
                f"{_DB_EXAMPLE}")
    if not isinstance(exc, sa_exc.DBAPIError) or exc.orig is None:
        return None
    if isinstance(exc.orig, sqlite3.Error):
        return _database_message(exc.orig)
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):  # connecting
        return (f"cannot use the database {_shown_url()}: {_first_line(exc.orig)[:200]}; "
                "check that the server is running and reachable, and DATABASE_URL's host, "
                "port, user, password and database name")
    return None  # an integrity or programming error is ours: reported as internal


def _sqlite(exc: BaseException) -> str | None:
    if isinstance(exc, sqlite3.Error):
        return _database_message(exc)
    return None


def _database_message(orig: BaseException) -> str | None:
    """SQLite's failures of the file itself (not of our SQL) with their fix."""
    text = _first_line(orig)
    low = text.lower()
    path = _sqlite_path()
    where = str(path) if path is not None else _shown_url()
    if isinstance(orig, sqlite3.Error):
        if "file is not a database" in low or "malformed" in low:
            return (f"{where} is not an SQLite database (a corrupt file, or another kind of "
                    "file such as a CSV); point DATABASE_URL or STRATLAB_DATA_DIR at the "
                    "lab's database, or move the file away and a new lab is created there")
        if "readonly" in low or "read-only" in low:
            return (f"the database {where} is read-only; make it and its folder writable "
                    "(SQLite writes -wal and -shm files beside it), or set STRATLAB_DATA_DIR "
                    "to a writable directory")
        if "unable to open database file" in low:
            if path is not None and path.is_dir():
                return (f"the database path {path} is a directory; point DATABASE_URL at a "
                        f"file (e.g. sqlite:///{(path / 'lab.db').as_posix()}) or unset it")
            return (f"cannot open the SQLite database {where}: the path or its folder cannot "
                    "be created or written; make the folder writable, or set "
                    "STRATLAB_DATA_DIR / DATABASE_URL to a writable place")
        if "database is locked" in low:
            return (f"the database {where} stayed locked by another process past the busy "
                    "timeout; wait for the long write (an evolution or a training run) to "
                    "commit, then try again")
        if "disk is full" in low or "disk i/o" in low:
            return (f"the database {where} cannot be written ({text}); free disk space or "
                    "move STRATLAB_DATA_DIR to another disk")
    return None


def _missing_module(exc: BaseException) -> str | None:
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    if top in DRIVER_PACKAGES:
        return (f"DATABASE_URL {_shown_url()} needs the database driver {top!r}, which is not "
                f"installed; install it (`pip install {DRIVER_PACKAGES[top]}`) or name an "
                "installed driver in the URL (e.g. postgresql+psycopg://…)")
    if top == "ray":
        return "the Ray backend needs `pip install ray`; or use --backend process"
    return (f"the Python package {top!r} is not installed; install it (`pip install {top}`, "
            "or `pip install -e .` for the lab's dependencies)")


def _setting_for(path: Path) -> str:
    """The setting that put ``path`` where it is: the most specific folder containing it."""
    storage = _settings()
    if storage is None:
        return "STRATLAB_DATA_DIR"
    candidates = [("MODEL_STORAGE_PATH", storage.models_dir),
                  ("SCALER_STORAGE_PATH", storage.scalers_dir),
                  ("VERSION_STORAGE_PATH", storage.versions_dir),
                  ("STRATLAB_SAMPLES_DIR", storage.samples_dir)]
    custom = {"MODEL_STORAGE_PATH": storage.model_storage_path,
              "SCALER_STORAGE_PATH": storage.scaler_storage_path,
              "VERSION_STORAGE_PATH": storage.version_storage_path,
              "STRATLAB_SAMPLES_DIR": storage.samples_dir}
    p = path.absolute()
    for var, folder in candidates:
        folder = Path(folder).absolute()
        if custom[var] is not None and (p == folder or folder in p.parents
                                        or p in folder.parents):
            return var
    db = _sqlite_path()
    if db is not None and os.environ.get("DATABASE_URL") and p in (db, *db.parents):
        return "DATABASE_URL"
    return "STRATLAB_DATA_DIR"


_RUST_OS_ERROR = re.compile(r"\(os error (\d+)\):?\s*(.*)$")


def _os_error(exc: BaseException) -> str | None:
    if not isinstance(exc, OSError):
        return None
    filename, code = getattr(exc, "filename", None), exc.errno
    if not filename:  # polars and pyarrow raise OSError with "(os error 13): /path" text
        m = _RUST_OS_ERROR.search(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        if not m or not m.group(2).strip():
            return None
        code = code or int(m.group(1))
        filename = m.group(2).strip()
    path = Path(str(filename))
    var = _setting_for(path)
    if isinstance(exc, PermissionError) or code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"cannot write {path}: {exc.strerror or 'Permission denied'}; make it "
                f"writable, or set {var} to a writable directory")
    if isinstance(exc, (FileExistsError, NotADirectoryError)) or code in (
            errno.EEXIST, errno.ENOTDIR):
        blocker = next((q for q in (path, *path.parents) if q.exists() and not q.is_dir()),
                       path)
        return (f"{blocker} is a file where the lab needs a directory (for {path}); set {var} "
                "to a directory, or move the file away")
    if isinstance(exc, IsADirectoryError) or code == errno.EISDIR:
        return (f"{path} is a directory where the lab needs a file; set {var} to another "
                "path, or move the directory away")
    if code == errno.ENOSPC:
        return f"no space left on the disk holding {path}; free space or set {var} elsewhere"
    return None
