"""Alembic's entry point: migrate the connection :func:`engine.db.init_db` hands over
(``config.attributes["connection"]``), or, for a developer's ``alembic`` command, the URL of
``alembic.ini`` / the lab's configured database."""

from __future__ import annotations

import logging.config
from typing import Any

from alembic import context
from sqlmodel.sql.sqltypes import AutoString

from engine import db
from engine.config import get_settings
from engine.migrations import include_object

config = context.config
if config.config_file_name:  # a developer's alembic.ini
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = db.load_metadata()


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render SQLModel's ``AutoString`` as plain ``sa.String`` (no sqlmodel import in
    revisions)."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _configure(**kw: Any) -> None:
    context.configure(target_metadata=target_metadata, include_object=include_object,
                      render_item=render_item, compare_type=True, **kw)


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection,
                   render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    eng = db.make_engine(_url())
    try:
        with eng.connect() as conn:
            _configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        eng.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
