"""The ledger sorted by its From or To warehouse (issue 15): ``(warehouse, id)`` indexes.

A Super Admin's ledger sorted by a warehouse joined every row to its warehouse
and organization and sorted them all: 450-550 ms at 676,000 rows.  The list now
reads such a page in two parts (``ABPartsInterface.page_by_label``): the
warehouses in name order, each one's rows from an index on ``(warehouse, id)``
already in the list's tie order, and the rows with no warehouse from the same
index.  ``idx_transactions_to_warehouse`` (``to_warehouse_id`` alone, this
portal's) becomes ``(to_warehouse_id, id)``; the seed's
``idx_transactions_warehouse`` (``from_warehouse_id, to_warehouse_id``) stays,
beside a new ``(from_warehouse_id, id)``.

Runs on SQLite (batch mode) and PostgreSQL.

Revision ID: 0018_ledger_warehouse_sort
Revises: 0011_ledger_sort_indexes
Create Date: 2026-12-04 19:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018_ledger_warehouse_sort'
down_revision = '0011_ledger_sort_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index('idx_transactions_to_warehouse')
        batch_op.create_index('idx_transactions_to_warehouse_id', ['to_warehouse_id', 'id'], unique=False)
        batch_op.create_index('idx_transactions_from_warehouse_id', ['from_warehouse_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index('idx_transactions_from_warehouse_id')
        batch_op.drop_index('idx_transactions_to_warehouse_id')
        batch_op.create_index('idx_transactions_to_warehouse', ['to_warehouse_id'], unique=False)
