"""The ledger sorted by type, approval status or reference (issue 15): an index each.

A Super Admin's ledger sorted by one of these columns sorted every row (0.4-1.6 s
at 750,000 rows) before showing 100.  With ``(column, id)`` indexes the page walks
the index in the list's order (the primary key breaks ties, as the list does).

Runs on SQLite (batch mode) and PostgreSQL.

Revision ID: 0011_ledger_sort_indexes
Revises: 0010_export_log
Create Date: 2026-12-04 18:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_ledger_sort_indexes'
down_revision = '0010_export_log'
branch_labels = None
depends_on = None

INDEXES = {
    'idx_transactions_type_id': ['transaction_type', 'id'],
    'idx_transactions_approval_status_id': ['approval_status', 'id'],
    'idx_transactions_reference_id': ['reference_number', 'id'],
}


def upgrade():
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
