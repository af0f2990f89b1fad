"""why a session ended, for the sign-in page to say (issue 14 point 19)

Revision ID: 5b2d8f6a1c30
Revises: 4a1c7e5b9d20
Create Date: 2026-12-07 18:50:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5b2d8f6a1c30'
down_revision: Union[str, Sequence[str], None] = '4a1c7e5b9d20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('auth_session', sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('auth_session') as batch:
        batch.drop_column('end_reason')
