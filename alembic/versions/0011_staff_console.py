"""the staff console: staff roles (operator, supervisor, admin), the append-only audit log (with
triggers refusing UPDATE and DELETE on SQLite and PostgreSQL), staff replies and notes on
customers' messages

Revision ID: 8a1f5c2e9d04
Revises: 7e4c9a1b3d52
Create Date: 2026-12-07 21:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '8a1f5c2e9d04'
down_revision: Union[str, Sequence[str], None] = '7e4c9a1b3d52'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY = "audit_log is append-only"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint('ck_user_role', type_='check')
        batch_op.create_check_constraint('ck_user_role', "role IN ('customer', 'operator', 'supervisor', 'admin')")
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('before', sa.Text(), nullable=False),
        sa.Column('after', sa.Text(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at', 'id'], unique=False)
    op.create_table(
        'message_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('reply', 'note')", name='ck_message_event_kind'),
        sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
        sa.ForeignKeyConstraint(['message_id'], ['customer_message.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_message_event_message', 'message_event', ['message_id', 'created_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$""")
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    else:
        for what in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER audit_log_no_{what.lower()} BEFORE {what} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")


def downgrade() -> None:
    """Downgrade schema (fails while a user has a staff role other than operator)."""
    op.drop_index('ix_message_event_message', table_name='message_event')
    op.drop_table('message_event')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')  # its triggers go with it
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION audit_log_append_only()")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint('ck_user_role', type_='check')
        batch_op.create_check_constraint('ck_user_role', "role IN ('customer', 'operator')")
