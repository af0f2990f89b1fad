"""a holder takes an account away from a later portal user: the record that keeps it away

Revision ID: 4a1c7e5b9d20
Revises: 3f9a6b2c8d15
Create Date: 2026-12-07 18:10:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '4a1c7e5b9d20'
down_revision: Union[str, Sequence[str], None] = '3f9a6b2c8d15'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'account_link_removal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('removed_by', sa.Integer(), nullable=True),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
        sa.ForeignKeyConstraint(['removed_by'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'user_id', name='uq_account_link_removal'),
    )
    op.create_index(op.f('ix_account_link_removal_account_id'), 'account_link_removal', ['account_id'], unique=False)
    op.create_index(op.f('ix_account_link_removal_user_id'), 'account_link_removal', ['user_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_account_link_removal_user_id'), table_name='account_link_removal')
    op.drop_index(op.f('ix_account_link_removal_account_id'), table_name='account_link_removal')
    op.drop_table('account_link_removal')
