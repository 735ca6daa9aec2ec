"""Trigram indexes for the lists' free-text search (issue 15), PostgreSQL only.

The search box of the ledger, parts, warehouses, organizations and machines
matches ``ILIKE '%text%'``; a ``pg_trgm`` GIN index per searched column
answers that without reading the table.  The extension is created if missing
(``pg_trgm`` is a trusted extension: the database's owner may create it).
SQLite gets nothing: it scans with ``LIKE``.  The downgrade drops the indexes
and leaves the extension, which other databases' objects may use.

Revision ID: 0004_text_search
Revises: 0003_order_status
Create Date: 2026-12-03 15:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004_text_search'
down_revision = '0003_order_status'
branch_labels = None
depends_on = None

#: table -> searched columns (app.models.text_search.trigram_index on the models).
SEARCHED = {
    'transactions': ('notes', 'reference_number'),
    'parts': ('part_number', 'name', 'description'),
    'warehouses': ('name', 'location'),
    'organizations': ('name',),
    'machines': ('name', 'serial_number', 'model_type'),
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    if not _postgresql():
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for table, columns in SEARCHED.items():
        for column in columns:
            op.create_index(f'idx_{table}_{column}_trgm', table, [column], unique=False,
                            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})


def downgrade():
    if not _postgresql():
        return
    for table, columns in SEARCHED.items():
        for column in columns:
            op.drop_index(f'idx_{table}_{column}_trgm', table_name=table)
