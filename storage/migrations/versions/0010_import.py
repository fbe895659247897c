"""import: where imported proposals and people came from (source, source id)

Revision ID: 0010_import
Revises: 0009_meetings
Create Date: 2026-12-07 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010_import'
down_revision: str | None = '0009_meetings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table, constraint in (('proposal', 'uq_proposal_source'), ('person', 'uq_person_source')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
            )
            batch_op.add_column(
                sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
            )
            batch_op.create_unique_constraint(constraint, ['guild_id', 'source', 'source_id'])


def downgrade() -> None:
    for table, constraint in (('person', 'uq_person_source'), ('proposal', 'uq_proposal_source')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(constraint, type_='unique')
            batch_op.drop_column('source_id')
            batch_op.drop_column('source')
