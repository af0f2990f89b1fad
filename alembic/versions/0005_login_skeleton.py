"""look-alike logins and the e-mail change's "it was not me" link

* ``user_account.login_skeleton``: sha256 of the login's UTS #39 skeleton
  (``services.identity.login_skeleton``), unique, filled here for the users already stored. When
  stored logins already look alike, the oldest user keeps the key and the others get NULL (they
  still block new look-alikes through the oldest one);
* ``ix_user_account_unconfirmed`` (is_active, created_at): the purge of registrations never
  confirmed reads by it;
* ``one_time_secret``: purpose ``email_undo`` (the link sent to the old address of an e-mail
  change) and ``session_id`` (the session that asked for an e-mail change).

Revision ID: 3f6b9a2c7d15
Revises: 8c2f4d1e6a07
Create Date: 2026-12-07 15:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '3f6b9a2c7d15'
down_revision: Union[str, Sequence[str], None] = '8c2f4d1e6a07'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_PURPOSE = "purpose IN ('confirm', 'reset', 'email_change', 'phone_change', 'sign_in')"
NEW_PURPOSE = "purpose IN ('confirm', 'reset', 'email_change', 'email_undo', 'phone_change', 'sign_in')"


def _fill_skeletons() -> None:
    from gazportal.services.identity import login_skeleton

    conn = op.get_bind()
    users = sa.table('user_account', sa.column('id', sa.Integer), sa.column('login', sa.String),
                     sa.column('login_skeleton', sa.String))
    taken: set[str] = set()
    for uid, login in conn.execute(sa.select(users.c.id, users.c.login).order_by(users.c.id)).all():
        key = login_skeleton(login)
        if key in taken:
            continue
        taken.add(key)
        conn.execute(sa.update(users).where(users.c.id == uid).values(login_skeleton=key))


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_skeleton', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    _fill_skeletons()
    op.create_index(op.f('ix_user_account_login_skeleton'), 'user_account', ['login_skeleton'], unique=True)
    op.create_index('ix_user_account_unconfirmed', 'user_account', ['is_active', 'created_at'], unique=False)
    with op.batch_alter_table('one_time_secret', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint('ck_ots_purpose', type_='check')
        batch_op.create_check_constraint('ck_ots_purpose', NEW_PURPOSE)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM one_time_secret WHERE purpose = 'email_undo'")
    with op.batch_alter_table('one_time_secret', schema=None) as batch_op:
        batch_op.drop_constraint('ck_ots_purpose', type_='check')
        batch_op.create_check_constraint('ck_ots_purpose', OLD_PURPOSE)
        batch_op.drop_column('session_id')
    op.drop_index('ix_user_account_unconfirmed', table_name='user_account')
    op.drop_index(op.f('ix_user_account_login_skeleton'), table_name='user_account')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('login_skeleton')
