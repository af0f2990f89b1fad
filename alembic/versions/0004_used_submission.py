"""used submission ids: a create form's id is used once across tabs, workers and instances

Revision ID: 8c2f4d1e6a07
Revises: 5e1d7c0a9b31
Create Date: 2026-11-29 16:40:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '8c2f4d1e6a07'
down_revision: Union[str, Sequence[str], None] = '5e1d7c0a9b31'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'used_submission',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_used_submission_used_at'), 'used_submission', ['used_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_used_submission_used_at'), table_name='used_submission')
    op.drop_table('used_submission')
