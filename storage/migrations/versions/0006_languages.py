"""languages: a server's language for its public posts, each reader's language

Revision ID: 0006_languages
Revises: 0005_identity
Create Date: 2026-12-07 06:30:00

- ``guild_config.language``: what ``/config language`` chose (NULL: the
  server's own locale, else English).
- ``reader_language``: per Discord account, the language chosen in
  ``/profile language`` and the client locale last seen (for DMs and
  reminders written when no interaction says it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0006_languages"
down_revision: str | None = "0005_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guild_config") as batch:
        batch.add_column(sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.create_table(
        "reader_language",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chosen", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("seen", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("reader_language")
    with op.batch_alter_table("guild_config") as batch:
        batch.drop_column("language")
