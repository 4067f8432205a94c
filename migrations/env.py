"""Alembic environment for Relbook books (SQLite, batch mode).

Run through ``relbook.storage.migrate`` which passes an open connection in
``config.attributes["connection"]``; the app never calls the ``alembic`` command itself.
To write a new revision: ``make revision m="what changed"``.
"""

from __future__ import annotations

from alembic import context

from relbook.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        url = config.get_main_option("sqlalchemy.url") or "sqlite:///revision-scratch.sqlite"
        engine = create_engine(url)
        with engine.connect() as fresh:
            _run(fresh)
        return
    _run(connection)


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # The FTS5 tables and their shadow tables are kept by storage/search_ddl.py, not by
    # the models: autogenerate must neither drop nor create them.
    return not (
        type_ == "table" and reflected and compare_to is None and (name or "").startswith("fts_")
    )


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
