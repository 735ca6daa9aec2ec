"""The stock levels sorted by stock on hand or reorder point (issue 15): ``(column, id)`` indexes.

A Super Admin's stock levels sorted by either column sorted all 84,403 lines at
10x (about 40 ms of SQL, 110-160 ms a page); 78,000 of them hold nothing, so the
seed's ``idx_inventory_stock`` (``current_stock`` alone) leaves one tie of 78,000
lines for the primary key to order.  With ``(column, id)`` the page walks the index
in the list's order, the key breaking ties as the list does.

Runs on SQLite (batch mode) and PostgreSQL.

Revision ID: 0018_stock_sort_indexes
Revises: 0017_user_locale
Create Date: 2026-12-04 21:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018_stock_sort_indexes'
down_revision = '0017_user_locale'
branch_labels = None
depends_on = None

INDEXES = {
    'idx_inventory_stock_id': ['current_stock', 'id'],
    'idx_inventory_reorder_point_id': ['minimum_stock_recommendation', 'id'],
}


def upgrade():
    with op.batch_alter_table('inventory', schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table('inventory', schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
