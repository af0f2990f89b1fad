"""certificates of no debt (issue 17 point 5): debt_certificate, numbered by id, looked up by a
random code from the public verification page /verify?c=...

Revision ID: 7f3a9c1e5b20
Revises: d4b0e7a2c913
Create Date: 2026-12-08 01:10:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '7f3a9c1e5b20'
down_revision: Union[str, Sequence[str], None] = 'd4b0e7a2c913'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'debt_certificate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_index(op.f('ix_debt_certificate_account_id'), 'debt_certificate', ['account_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_debt_certificate_account_id'), table_name='debt_certificate')
    op.drop_table('debt_certificate')
