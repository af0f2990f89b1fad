"""the staff dashboard's monthly roll-ups: stat_month (readings, meters read, charged volume,
charges and payments per period, service and settlement) and stat_day (first readings of a period
by day of the month); filled from existing rows by ``python -m gazportal.cli rollups rebuild``

Revision ID: d4b0e7a2c913
Revises: 9c4e7a2b5f18
Create Date: 2026-12-07 22:20:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'd4b0e7a2c913'
down_revision: Union[str, Sequence[str], None] = '9c4e7a2b5f18'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'stat_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('settlement_id', sa.Integer(), nullable=False),
        sa.Column('readings', sa.Integer(), nullable=False),
        sa.Column('meters_read', sa.Integer(), nullable=False),
        sa.Column('meters', sa.Integer(), nullable=False),
        sa.Column('volume', sa.Numeric(18, 3), nullable=False),
        sa.Column('charged', sa.Numeric(16, 2), nullable=False),
        sa.Column('paid', sa.Numeric(16, 2), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('period', 'service', 'settlement_id', name='uq_stat_month_key'),
    )
    op.create_table(
        'stat_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('settlement_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('first_readings', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('period', 'service', 'settlement_id', 'day', name='uq_stat_day_key'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('stat_day')
    op.drop_table('stat_month')
