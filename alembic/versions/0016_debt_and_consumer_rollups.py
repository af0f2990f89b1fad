"""the staff dashboard's per-account roll-ups: stat_debt (each account's unpaid charges by the
month they were charged, payments paying the oldest first: debt ageing and top debtors) and
stat_consumer (each account's charged volume per service and year: top consumers); filled from
existing rows by ``python -m gazportal.cli rollups rebuild``

Revision ID: e7c3a91f5b20
Revises: 5e2c9b7a41f3
Create Date: 2026-12-08 01:10:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'e7c3a91f5b20'
down_revision: Union[str, Sequence[str], None] = '5e2c9b7a41f3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'stat_debt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('settlement_id', sa.Integer(), nullable=False),
        sa.Column('unpaid', sa.Numeric(16, 2), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'period', name='uq_stat_debt_key'),
    )
    op.create_index('ix_stat_debt_settlement_period', 'stat_debt', ['settlement_id', 'period'])
    op.create_index('ix_stat_debt_period', 'stat_debt', ['period'])
    op.create_table(
        'stat_consumer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('settlement_id', sa.Integer(), nullable=False),
        sa.Column('volume', sa.Numeric(18, 3), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('year', 'service', 'account_id', name='uq_stat_consumer_key'),
    )
    op.create_index('ix_stat_consumer_top', 'stat_consumer', ['year', 'service', 'volume'])
    op.create_index('ix_stat_consumer_settlement_top', 'stat_consumer', ['year', 'service', 'settlement_id', 'volume'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('stat_consumer')
    op.drop_table('stat_debt')
