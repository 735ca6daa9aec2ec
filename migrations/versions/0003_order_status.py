"""Order status becomes an enum with transitions (issues 8 and 10).

``customer_orders.status`` and ``supplier_orders.status`` were free text
("Teleported" was saved).  Existing values are converted case-insensitively,
anything unknown to the initial state, then the columns change type.  Runs on
SQLite (batch mode: the table is rebuilt) and PostgreSQL (the enum types are
created and the columns cast with ``ALTER ... USING``).  The downgrade gives
back ``VARCHAR(50)`` with the old words.

Revision ID: 0003_order_status
Revises: 0002_transfers
Create Date: 2026-12-04 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_order_status'
down_revision = '0002_transfers'
branch_labels = None
depends_on = None

CUSTOMER_STATES = ('requested', 'approved', 'shipped', 'received', 'cancelled')
SUPPLIER_STATES = ('ordered', 'partially_received', 'received', 'cancelled')

#: table -> (enum type, states, initial state, old word (lower case) -> state)
ORDERS = {
    'customer_orders': ('customer_order_status_enum', CUSTOMER_STATES, 'requested', {
        'requested': 'requested', 'pending': 'approved', 'shipped': 'shipped', 'received': 'received',
        'cancelled': 'cancelled'}),
    'supplier_orders': ('supplier_order_status_enum', SUPPLIER_STATES, 'ordered', {
        'requested': 'ordered', 'pending': 'ordered', 'shipped': 'ordered', 'received': 'received',
        'cancelled': 'cancelled'}),
}

#: table -> state -> the old word the downgrade writes back.
OLD_WORDS = {
    'customer_orders': {'requested': 'Requested', 'approved': 'Pending', 'shipped': 'Shipped',
                        'received': 'Received', 'cancelled': 'Cancelled'},
    'supplier_orders': {'ordered': 'Pending', 'partially_received': 'Shipped', 'received': 'Received',
                        'cancelled': 'Cancelled'},
}


def _case(expression: str, mapping: dict, fallback: str) -> str:
    # The mappings are the constants above, never user input: literal SQL is safe here.
    whens = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in mapping.items())
    return f"CASE {expression} {whens} ELSE '{fallback}' END"


def upgrade():
    bind = op.get_bind()
    for table, (type_name, states, initial, mapping) in ORDERS.items():
        op.execute(f"UPDATE {table} SET status = {_case('lower(trim(status))', mapping, initial)}")
        enum = sa.Enum(*states, name=type_name)
        enum.create(bind, checkfirst=True)  # PostgreSQL only; SQLite stores VARCHAR
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('status', existing_type=sa.String(length=50), type_=enum,
                                  existing_nullable=False, nullable=False, server_default=initial,
                                  postgresql_using=f'status::{type_name}')


def downgrade():
    bind = op.get_bind()
    for table, (type_name, states, initial, _mapping) in ORDERS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('status', existing_type=sa.Enum(*states, name=type_name),
                                  type_=sa.String(length=50), existing_nullable=False, nullable=False,
                                  server_default=None, postgresql_using='status::text')
        words = OLD_WORDS[table]
        op.execute(f"UPDATE {table} SET status = {_case('status', words, words[initial])}")
        sa.Enum(name=type_name).drop(bind, checkfirst=True)
