"""The size of a frozen guest's overlay, as its compute agent reports it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('migrations') as batch:
        batch.add_column(sa.Column('overlay_bytes', sa.BigInteger,
                                   nullable=True))
