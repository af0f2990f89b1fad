"""session hand-over: one-time secrets of purpose 'sign_in' on channel 'web'

The session cookie is HttpOnly and set by an HTTP answer (``gazportal/session_http.py``): a
sign-in made over the websocket leaves a one-time hand-over code (60 s, single use) that the page
exchanges for the cookie.

Revision ID: 5e1d7c0a9b31
Revises: b2ccc0d2849b
Create Date: 2026-11-29 15:10:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = '5e1d7c0a9b31'
down_revision: Union[str, Sequence[str], None] = 'b2ccc0d2849b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_PURPOSE = "purpose IN ('confirm', 'reset', 'email_change', 'phone_change')"
NEW_PURPOSE = "purpose IN ('confirm', 'reset', 'email_change', 'phone_change', 'sign_in')"
OLD_CHANNEL = "channel IN ('email', 'sms')"
NEW_CHANNEL = "channel IN ('email', 'sms', 'web')"


def _swap(purpose: str, channel: str) -> None:
    with op.batch_alter_table('one_time_secret') as batch:
        batch.drop_constraint('ck_ots_purpose', type_='check')
        batch.drop_constraint('ck_ots_channel', type_='check')
        batch.create_check_constraint('ck_ots_purpose', purpose)
        batch.create_check_constraint('ck_ots_channel', channel)


def upgrade() -> None:
    """Upgrade schema."""
    _swap(NEW_PURPOSE, NEW_CHANNEL)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM one_time_secret WHERE purpose = 'sign_in' OR channel = 'web'")
    _swap(OLD_PURPOSE, OLD_CHANNEL)
