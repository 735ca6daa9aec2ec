"""Account security (issue 12): security events, sessions and the user audit logs
outlive, or go with, a deleted user instead of blocking its deletion.

- ``security_events.user_id``: ``ON DELETE SET NULL`` (the event stays, its
  details name the username);
- ``user_sessions.user_id``: ``ON DELETE CASCADE`` (a deleted user has no sessions);
- ``invitation_audit_logs`` and ``user_management_audit_logs``: ``user_id`` and
  ``performed_by_user_id`` nullable, ``ON DELETE SET NULL``.

Batch mode: SQLite rebuilds the four tables, PostgreSQL alters them in place.

Revision ID: 0006_account_security
Revises: 0005_order_fulfilment
Create Date: 2026-12-03 17:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006_account_security'
down_revision = '0005_order_fulfilment'
branch_labels = None
depends_on = None

#: table -> [(column, ON DELETE, nullable after the upgrade)]
FOREIGN_KEYS = {
    'security_events': [('user_id', 'SET NULL', True)],
    'user_sessions': [('user_id', 'CASCADE', False)],
    'invitation_audit_logs': [('user_id', 'SET NULL', True), ('performed_by_user_id', 'SET NULL', True)],
    'user_management_audit_logs': [('user_id', 'SET NULL', True), ('performed_by_user_id', 'SET NULL', True)],
}
#: Columns NOT NULL before this revision.
WAS_REQUIRED = {('user_sessions', 'user_id'), ('invitation_audit_logs', 'user_id'),
                ('user_management_audit_logs', 'user_id'), ('user_management_audit_logs', 'performed_by_user_id')}


def _rebuild(on_delete: bool) -> None:
    for table, columns in FOREIGN_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, action, nullable in columns:
                name = op.f(f'fk_{table}_{column}_ab_user')
                batch_op.drop_constraint(name, type_='foreignkey')
                batch_op.alter_column(column, existing_type=sa.Integer(),
                                      nullable=nullable if on_delete else (table, column) not in WAS_REQUIRED)
                batch_op.create_foreign_key(name, 'ab_user', [column], ['id'],
                                            ondelete=action if on_delete else None)


def upgrade():
    _rebuild(on_delete=True)


def downgrade():
    # Rows whose user was deleted have nowhere to point: drop them before NOT NULL returns.
    for table, column in WAS_REQUIRED:
        op.execute(sa.text(f'DELETE FROM {table} WHERE {column} IS NULL'))
    _rebuild(on_delete=False)
