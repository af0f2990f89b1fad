"""online payments (issue 17): payment orders fixed on the server, incidents for staff, and the
ledger's payment names its provider and transaction — unique (provider, transaction_id)

Revision ID: e5a9c3f1b7d2
Revises: e7c3a91f5b20
Create Date: 2026-12-08 01:05:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'e5a9c3f1b7d2'
down_revision: Union[str, Sequence[str], None] = 'e7c3a91f5b20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('transaction_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_payment_provider_transaction', ['provider', 'transaction_id'])
    op.create_table(
        'payment_order',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('amount', sa.Numeric(12, 2), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('transaction_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.CheckConstraint('amount > 0', name='ck_payment_order_amount'),
        sa.CheckConstraint("status IN ('created', 'pending', 'paid', 'failed', 'expired')",
                           name='ck_payment_order_status'),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('payment_id'),
        sa.UniqueConstraint('public_id'),
    )
    with op.batch_alter_table('payment_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_order_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_payment_order_status_created', ['status', 'created_at'], unique=False)
    op.create_table(
        'payment_incident',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('transaction_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('amount', sa.Numeric(12, 2), nullable=True),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['payment_order.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('payment_incident', schema=None) as batch_op:
        batch_op.create_index('ix_payment_incident_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_incident_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('payment_incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_incident_order_id'))
        batch_op.drop_index('ix_payment_incident_created')
    op.drop_table('payment_incident')
    with op.batch_alter_table('payment_order', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_order_status_created')
        batch_op.drop_index(batch_op.f('ix_payment_order_account_id'))
    op.drop_table('payment_order')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_payment_provider_transaction', type_='unique')
        batch_op.drop_column('transaction_id')
        batch_op.drop_column('provider')
