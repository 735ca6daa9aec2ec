"""Failed sign-ins under names that are no account, counted like an account's (issue 12).

A name that is no active account locks after the same number of failures, with
the same message, as one that is: the lockout no longer tells which names exist.

Revision ID: 0007_unknown_login_failures
Revises: 0006_account_security
Create Date: 2026-12-03 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_unknown_login_failures'
down_revision = '0006_account_security'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'unknown_login_failures',
        sa.Column('name_key', sa.String(length=64), nullable=False),
        sa.Column('failed_login_attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name_key', name=op.f('pk_unknown_login_failures')),
    )


def downgrade():
    op.drop_table('unknown_login_failures')
