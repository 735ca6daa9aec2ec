"""The language each user chose in the navbar (issue 13): ``ab_user.locale``.

``NULL``: the browser's language.  Runs on SQLite (batch mode) and PostgreSQL.

Revision ID: 0017_user_locale
Revises: 0015_row_security
Create Date: 2026-12-04 19:20:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_user_locale'
down_revision = '0015_row_security'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('locale')
