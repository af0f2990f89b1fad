"""a reading's dial turns (roll-over past zero) and charges' volumes never negative

Revision ID: 6d3b8e2f4a17
Revises: 4a1c7e5b9d20
Create Date: 2026-12-07 18:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '6d3b8e2f4a17'
down_revision: Union[str, Sequence[str], None] = '4a1c7e5b9d20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('reading', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rollovers', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('ck_reading_rollovers', 'rollovers >= 0')
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.create_check_constraint('ck_charge_volume', 'volume >= 0')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.drop_constraint('ck_charge_volume', type_='check')
    with op.batch_alter_table('reading', schema=None) as batch_op:
        batch_op.drop_constraint('ck_reading_rollovers', type_='check')
        batch_op.drop_column('rollovers')
