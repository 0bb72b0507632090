"""Schema migrations of ``lab.db`` (Alembic), shipped inside the package.

:func:`engine.db.init_db` upgrades every database it opens to :data:`HEAD`; nothing else
runs them. The Alembic configuration is built in code (:func:`alembic_config`), so no
``alembic.ini`` is needed at run time; the one at the repository root is for developers:

    alembic revision --autogenerate -m "what changed"   # then review the new file
    alembic upgrade head

A new revision must also move :data:`HEAD` (a test checks it against the scripts), so an
already-migrated database is recognised without loading Alembic at every start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config

#: The folder holding env.py, script.py.mako and versions/.
SCRIPT_LOCATION = Path(__file__).resolve().parent
#: The schema of the last release without migrations (669aefb).
INITIAL = "0001_initial"
#: The newest revision; keep equal to the head of versions/.
HEAD = "0008_llm_lookahead"
#: Tables in the lab's database that the migrations do not manage.
UNMANAGED_TABLES = frozenset({"apscheduler_jobs"})  # APScheduler's job store creates it


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Alembic's filter: leave the unmanaged tables alone (autogenerate would drop them)."""
    return not (type_ == "table" and name in UNMANAGED_TABLES)


def known_revisions() -> set[str]:
    """Every revision id in versions/ (reads the scripts: only off the fast path)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def alembic_config(connection: Any = None, url: str | None = None) -> Config:
    """An Alembic ``Config`` for this package; ``connection`` (an open SQLAlchemy
    connection) is used as is by env.py, else ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg
