"""a login's look-alike key is unique among confirmed users only (registrations not confirmed
yet no longer hold it: the attacker test of issue 15)

Revision ID: 7e4c9a1b3d52
Revises: 6d3b8e2f4a17
Create Date: 2026-12-07 19:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '7e4c9a1b3d52'
down_revision: Union[str, Sequence[str], None] = '6d3b8e2f4a17'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index(op.f('ix_user_account_login_skeleton'), table_name='user_account')
    op.create_index(op.f('ix_user_account_login_skeleton'), 'user_account', ['login_skeleton'], unique=False)
    op.create_index('uq_user_account_active_skeleton', 'user_account', ['login_skeleton'], unique=True,
                    sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))


def downgrade() -> None:
    """Downgrade schema (fails where two registrations of look-alike logins exist)."""
    op.drop_index('uq_user_account_active_skeleton', table_name='user_account')
    op.drop_index(op.f('ix_user_account_login_skeleton'), table_name='user_account')
    op.create_index(op.f('ix_user_account_login_skeleton'), 'user_account', ['login_skeleton'], unique=True)
