"""a reading's dial turns (roll-over past zero), charges' volumes never negative, and the staff
review of readings above the hard plausibility limit

Revision ID: 6d3b8e2f4a17
Revises: 5b2d8f6a1c30
Create Date: 2026-12-07 18:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '6d3b8e2f4a17'
down_revision: Union[str, Sequence[str], None] = '5b2d8f6a1c30'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('reading', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rollovers', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('ck_reading_rollovers', 'rollovers >= 0')
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.create_check_constraint('ck_charge_volume', 'volume >= 0')
    op.create_table(
        'reading_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meter_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.Column('rollovers', sa.Integer(), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('base_value', sa.BigInteger(), nullable=True),
        sa.Column('volume', sa.BigInteger(), nullable=False),
        sa.Column('limit_volume', sa.BigInteger(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'accepted', 'rejected')", name='ck_reading_review_status'),
        sa.CheckConstraint('value >= 0 AND rollovers >= 0 AND volume > limit_volume',
                           name='ck_reading_review_values'),
        sa.ForeignKeyConstraint(['meter_id'], ['meter.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reading_review_status', 'reading_review', ['status', 'created_at'], unique=False)
    op.create_index('ix_reading_review_meter_period', 'reading_review', ['meter_id', 'period'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_reading_review_meter_period', table_name='reading_review')
    op.drop_index('ix_reading_review_status', table_name='reading_review')
    op.drop_table('reading_review')
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.drop_constraint('ck_charge_volume', type_='check')
    with op.batch_alter_table('reading', schema=None) as batch_op:
        batch_op.drop_constraint('ck_reading_rollovers', type_='check')
        batch_op.drop_column('rollovers')
