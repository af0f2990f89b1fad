"""the readings review queue (issue 16 point 6): a staff decision on a held reading (who, when,
the stated reason), the reading booked from a review linked to it (unique: accepting twice books
once), and a review's status that moves forward only (open -> accepted | rejected; triggers on SQLite and PostgreSQL)

Revision ID: 9c4e7a2b5f18
Revises: 8a1f5c2e9d04
Create Date: 2026-12-07 22:15:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '9c4e7a2b5f18'
down_revision: Union[str, Sequence[str], None] = '8a1f5c2e9d04'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FORWARD_ONLY = "reading_review status moves forward only"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('reading_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=500),
                                      server_default='', nullable=False))
        batch_op.create_foreign_key('fk_reading_review_decided_by', 'user_account', ['decided_by'], ['id'])
    with op.batch_alter_table('reading', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_reading_review_id', 'reading_review', ['review_id'], ['id'])
        batch_op.create_unique_constraint('uq_reading_review_id', ['review_id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""CREATE FUNCTION reading_review_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF OLD.status <> 'open' AND NEW.status <> OLD.status THEN RAISE EXCEPTION '{FORWARD_ONLY}'; END IF;
              RETURN NEW;
            END $$""")
        op.execute("CREATE TRIGGER reading_review_forward_only BEFORE UPDATE ON reading_review "
                   "FOR EACH ROW EXECUTE FUNCTION reading_review_forward_only()")
    else:
        op.execute("CREATE TRIGGER reading_review_forward_only BEFORE UPDATE OF status ON reading_review "
                   "WHEN OLD.status <> 'open' AND NEW.status <> OLD.status "
                   f"BEGIN SELECT RAISE(ABORT, '{FORWARD_ONLY}'); END")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER reading_review_forward_only ON reading_review")
        op.execute("DROP FUNCTION reading_review_forward_only()")
    else:
        op.execute("DROP TRIGGER reading_review_forward_only")
    with op.batch_alter_table('reading', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reading_review_id', type_='unique')
        batch_op.drop_constraint('fk_reading_review_id', type_='foreignkey')
        batch_op.drop_column('review_id')
    with op.batch_alter_table('reading_review', schema=None) as batch_op:
        batch_op.drop_constraint('fk_reading_review_decided_by', type_='foreignkey')
        batch_op.drop_column('decision_reason')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('decided_at')
