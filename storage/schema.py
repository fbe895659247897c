"""Every table, imported so that ``metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from storage import audit, config  # noqa: F401  (registers the tables)

metadata = SQLModel.metadata
