"""Migration claims: the conductor driving a migration, and since when.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('migrations') as batch:
        batch.add_column(sa.Column('conductor_host', sa.String(255),
                                   nullable=True))
        batch.add_column(sa.Column('claimed_at', sa.DateTime,
                                   nullable=True))
    op.create_index('migrations_conductor_host_idx', 'migrations',
                    ['conductor_host'])
