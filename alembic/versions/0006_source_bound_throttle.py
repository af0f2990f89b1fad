"""failures bound to their source: throttle rows grouped by target, episodes told to the holder,
the devices a user signed in from

Revision ID: 3f9a6b2c8d15
Revises: 3f6b9a2c7d15
Create Date: 2026-12-02 10:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '3f9a6b2c8d15'
down_revision: Union[str, Sequence[str], None] = '3f6b9a2c7d15'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('login_throttle', sa.Column('target_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                              nullable=True))
    op.add_column('login_throttle', sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_login_throttle_target_hash'), 'login_throttle', ['target_hash'], unique=False)
    op.create_index(op.f('ix_login_throttle_last_failure_at'), 'login_throttle', ['last_failure_at'],
                    unique=False)
    op.create_table(
        'known_device',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('device_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'device_hash', name='uq_known_device_user_device'),
    )
    op.create_index(op.f('ix_known_device_user_id'), 'known_device', ['user_id'], unique=False)
    op.create_index(op.f('ix_known_device_last_seen_at'), 'known_device', ['last_seen_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_known_device_last_seen_at'), table_name='known_device')
    op.drop_index(op.f('ix_known_device_user_id'), table_name='known_device')
    op.drop_table('known_device')
    op.drop_index(op.f('ix_login_throttle_last_failure_at'), table_name='login_throttle')
    op.drop_index(op.f('ix_login_throttle_target_hash'), table_name='login_throttle')
    with op.batch_alter_table('login_throttle') as batch:
        batch.drop_column('notified_at')
        batch.drop_column('target_hash')
