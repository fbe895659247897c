"""identity: who an invitation went to, apart from the nominator's claim; statuses from facts

Revision ID: 0005_identity
Revises: 0004_outbox
Create Date: 2026-12-06 19:45:00

- ``participation.invited_user_id``: the account the last invitation went
  to. Before, the routed account was copied into ``invitee_id`` (the
  nominator's claim), so a link confirmed through one nominator's invitation
  became a claim of every later nomination. Rows invited so far keep their
  invitee as the invited account.
- Every nomination's ``status`` and ``agreed_in_principle`` are recomputed
  from its facts (removed, the nominee's answer, an invitation), as
  ``bot.services.panellists.status_of`` does: rows an organiser had set to
  "confirmed" over the nominee's decline before issue 9 read "declined".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005_identity"
down_revision: str | None = "0004_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participation") as batch:
        batch.add_column(sa.Column("invited_user_id", sa.BigInteger(), nullable=True))
        batch.create_index(
            "ix_participation_guild_invited", ["guild_id", "invited_user_id"], unique=False
        )
    op.execute(
        "UPDATE participation SET invited_user_id = invitee_id WHERE invited_at IS NOT NULL"
    )
    # Only what contradicts the facts changes: an answer by the nominee (or
    # recorded by the secretariat) decides; "confirmed" or "declined" without
    # any answer was an organiser's word, and goes back to the invitation.
    op.execute(
        """
        UPDATE participation SET status = CASE
            WHEN removed_at IS NOT NULL THEN 'withdrawn'
            WHEN consent = 'given' THEN 'confirmed'
            WHEN consent = 'refused' THEN 'declined'
            WHEN status IN ('confirmed', 'declined') AND invited_at IS NOT NULL THEN 'invited'
            WHEN status IN ('confirmed', 'declined') THEN 'nominated'
            ELSE status
        END
        """
    )
    op.execute("UPDATE participation SET agreed_in_principle = (status = 'confirmed')")


def downgrade() -> None:
    with op.batch_alter_table("participation") as batch:
        batch.drop_index("ix_participation_guild_invited")
        batch.drop_column("invited_user_id")
