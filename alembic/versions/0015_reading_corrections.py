"""staff corrections and customer disputes of booked readings (issue 16 point 6): reading.corrects_id
(a correction is a new row naming the reading it corrects; unique: corrected once) and
reading_dispute (a customer's dispute, then a staff decision; status forward only, triggers on
SQLite and PostgreSQL)

Revision ID: 5e2c9b7a41f3
Revises: 7f3a9c1e5b20
Create Date: 2026-12-08 01:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5e2c9b7a41f3'
down_revision: Union[str, Sequence[str], None] = '7f3a9c1e5b20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FORWARD_ONLY = "reading_dispute status moves forward only"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('reading', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrects_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_reading_corrects_id', 'reading', ['corrects_id'], ['id'])
        batch_op.create_unique_constraint('uq_reading_corrects_id', ['corrects_id'])
    op.create_table(
        'reading_dispute',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reading_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=500), server_default='',
                  nullable=False),
        sa.Column('correction_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'corrected', 'dismissed')", name='ck_reading_dispute_status'),
        sa.ForeignKeyConstraint(['reading_id'], ['reading.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['decided_by'], ['user_account.id']),
        sa.ForeignKeyConstraint(['correction_id'], ['reading.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reading_dispute_status', 'reading_dispute', ['status', 'created_at'], unique=False)
    op.create_index('ix_reading_dispute_reading', 'reading_dispute', ['reading_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""CREATE FUNCTION reading_dispute_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF OLD.status <> 'open' AND NEW.status <> OLD.status THEN RAISE EXCEPTION '{FORWARD_ONLY}'; END IF;
              RETURN NEW;
            END $$""")
        op.execute("CREATE TRIGGER reading_dispute_forward_only BEFORE UPDATE ON reading_dispute "
                   "FOR EACH ROW EXECUTE FUNCTION reading_dispute_forward_only()")
    else:
        op.execute("CREATE TRIGGER reading_dispute_forward_only BEFORE UPDATE OF status ON reading_dispute "
                   "WHEN OLD.status <> 'open' AND NEW.status <> OLD.status "
                   f"BEGIN SELECT RAISE(ABORT, '{FORWARD_ONLY}'); END")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER reading_dispute_forward_only ON reading_dispute")
        op.execute("DROP FUNCTION reading_dispute_forward_only()")
    else:
        op.execute("DROP TRIGGER reading_dispute_forward_only")
    op.drop_index('ix_reading_dispute_reading', table_name='reading_dispute')
    op.drop_index('ix_reading_dispute_status', table_name='reading_dispute')
    op.drop_table('reading_dispute')
    with op.batch_alter_table('reading', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reading_corrects_id', type_='unique')
        batch_op.drop_constraint('fk_reading_corrects_id', type_='foreignkey')
        batch_op.drop_column('corrects_id')
