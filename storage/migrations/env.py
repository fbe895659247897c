"""Alembic environment.

Run by ``storage.migrate`` with a live (sync-facade) connection passed in
``config.attributes["connection"]``, so migrations share the application's
async engine; ``render_as_batch`` lets SQLite alter tables.
"""

from __future__ import annotations

from alembic import context

from storage.schema import metadata

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `magbot db upgrade`, not the alembic CLI")
_run(connection)
