"""The export log: every export of a list or report (issue 11).

``export_log``: who, which list, the query string and its filters as JSON, the
organization scope, the format, the row count, when it started and finished,
and for the stock ledger the "as of" time.  Runs on SQLite (batch mode) and
PostgreSQL.

Revision ID: 0010_export_log
Revises: 0008_stocktake
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_export_log'
down_revision = '0009_list_scale'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_log',
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=256), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=True),
    sa.Column('organization_scope', sa.Text(), nullable=False),
    sa.Column('list_name', sa.String(length=200), nullable=False),
    sa.Column('view_name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('filters', sa.Text(), nullable=True),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_export_log_organization_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name=op.f('fk_export_log_user_id_ab_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_log'))
    )
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.create_index('idx_export_log_organization', ['organization_id'], unique=False)
        batch_op.create_index('idx_export_log_started', ['started_at'], unique=False)
        batch_op.create_index('idx_export_log_user', ['user_id'], unique=False)
        batch_op.create_index('idx_export_log_view', ['view_name'], unique=False)


def downgrade():
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.drop_index('idx_export_log_view')
        batch_op.drop_index('idx_export_log_user')
        batch_op.drop_index('idx_export_log_started')
        batch_op.drop_index('idx_export_log_organization')

    op.drop_table('export_log')
