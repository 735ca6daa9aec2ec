"""Orders that move stock: drafts, shipments, supplier receipts, order history (issue 10).

- ``customer_order_status_enum`` gains ``draft``, the state a new customer
  order starts in until it is submitted (existing orders keep their state).
- ``stock_transfers.customer_order_id``: a shipment of a customer order is a
  stock transfer through Oraseas EE's transit location; its destination
  warehouse (``to_warehouse_id``, now nullable) is chosen at receipt.
- ``transactions.supplier_order_id``: the supplier order a ``creation`` receives.
- ``organizations.order_approval_threshold``: per-customer approval threshold.
- ``order_events``: every step of an order, who and when.

Runs on SQLite (batch mode) and PostgreSQL (the enum value is added outside
the migration's transaction, as PostgreSQL requires before using it).

Revision ID: 0005_order_fulfilment
Revises: 0004_text_search
Create Date: 2026-12-03 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_order_fulfilment'
down_revision = '0004_text_search'
branch_labels = None
depends_on = None

_STATES = ('requested', 'approved', 'shipped', 'received', 'cancelled')


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE customer_order_status_enum ADD VALUE IF NOT EXISTS 'draft' BEFORE 'requested'")
    with op.batch_alter_table('customer_orders', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.Enum('draft', *_STATES, name='customer_order_status_enum'),
                              existing_nullable=False, server_default='draft')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_approval_threshold', sa.Numeric(precision=10, scale=2), nullable=True))

    with op.batch_alter_table('stock_transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_order_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('to_warehouse_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.create_index('idx_stock_transfers_customer_order', ['customer_order_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_stock_transfers_customer_order_id_customer_orders'),
                                    'customer_orders', ['customer_order_id'], ['id'])

    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplier_order_id', sa.Uuid(), nullable=True))
        batch_op.create_index('idx_transactions_supplier_order', ['supplier_order_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_transactions_supplier_order_id_supplier_orders'),
                                    'supplier_orders', ['supplier_order_id'], ['id'])

    op.create_table(
        'order_events',
        sa.Column('customer_order_id', sa.Uuid(), nullable=True),
        sa.Column('supplier_order_id', sa.Uuid(), nullable=True),
        sa.Column('step', sa.String(length=30), nullable=False),
        sa.Column('from_status', sa.String(length=30), nullable=True),
        sa.Column('to_status', sa.String(length=30), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stock_transfer_id', sa.Uuid(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint('(customer_order_id IS NULL) <> (supplier_order_id IS NULL)',
                           name=op.f('ck_order_events_one_order')),
        sa.ForeignKeyConstraint(['customer_order_id'], ['customer_orders.id'],
                                name=op.f('fk_order_events_customer_order_id_customer_orders')),
        sa.ForeignKeyConstraint(['supplier_order_id'], ['supplier_orders.id'],
                                name=op.f('fk_order_events_supplier_order_id_supplier_orders')),
        sa.ForeignKeyConstraint(['stock_transfer_id'], ['stock_transfers.id'],
                                name=op.f('fk_order_events_stock_transfer_id_stock_transfers')),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name=op.f('fk_order_events_user_id_ab_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_events')),
    )
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index('idx_order_events_customer_order', ['customer_order_id', 'occurred_at'], unique=False)
        batch_op.create_index('idx_order_events_supplier_order', ['supplier_order_id', 'occurred_at'], unique=False)


def downgrade():
    op.drop_table('order_events')
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_transactions_supplier_order_id_supplier_orders'), type_='foreignkey')
        batch_op.drop_index('idx_transactions_supplier_order')
        batch_op.drop_column('supplier_order_id')
    unreceived = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM stock_transfers WHERE to_warehouse_id IS NULL")).scalar()
    if unreceived:
        # Their ledger rows point at them: receive them first rather than lose stock in transit.
        raise RuntimeError(f"{unreceived} order shipment(s) are not received yet; receive them before downgrading.")
    with op.batch_alter_table('stock_transfers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_stock_transfers_customer_order_id_customer_orders'), type_='foreignkey')
        batch_op.drop_index('idx_stock_transfers_customer_order')
        batch_op.alter_column('to_warehouse_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('customer_order_id')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('order_approval_threshold')
    # PostgreSQL cannot drop an enum value: drafts become requested, the type keeps the word.
    op.execute("UPDATE customer_orders SET status = 'requested' WHERE status = 'draft'")
    with op.batch_alter_table('customer_orders', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.Enum('draft', *_STATES, name='customer_order_status_enum'),
                              existing_nullable=False, server_default='requested')
