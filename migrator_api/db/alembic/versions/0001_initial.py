"""Initial schema: services, backends, volumes, attachments, migrations.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime, nullable=True)]


def upgrade():
    op.create_table(
        'services',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(64), nullable=False),
        sa.Column('last_seen_at', sa.DateTime, nullable=True),
        sa.Column('disabled', sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_services0host0binary'))
    op.create_table(
        'backends',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('backend_type', sa.String(32), nullable=False),
        sa.Column('capabilities', sa.JSON, nullable=False),
        sa.Column('total_capacity_bytes', sa.BigInteger, nullable=True),
        sa.Column('free_capacity_bytes', sa.BigInteger, nullable=True),
        *_timestamps())
    op.create_table(
        'volumes',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=True),
        sa.Column('project_id', sa.String(255), nullable=True),
        sa.Column('user_id', sa.String(255), nullable=True),
        sa.Column('size', sa.BigInteger, nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('backend_id', sa.String(36), sa.ForeignKey('backends.id'),
                  nullable=False),
        sa.Column('location', sa.JSON, nullable=True),
        sa.Column('provider_id', sa.String(36), nullable=True),
        sa.Column('migration_status', sa.String(32), nullable=True),
        sa.Column('hidden', sa.Boolean, nullable=False),
        sa.Column('error', sa.Text, nullable=True),
        *_timestamps())
    op.create_index('volumes_migration_status_idx', 'volumes',
                    ['migration_status'])
    op.create_index('volumes_backend_id_idx', 'volumes', ['backend_id'])
    op.create_table(
        'attachments',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('volume_id', sa.String(36), sa.ForeignKey('volumes.id'),
                  nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('device', sa.String(64), nullable=True),
        sa.Column('error', sa.Text, nullable=True),
        *_timestamps())
    op.create_index('attachments_volume_id_idx', 'attachments',
                    ['volume_id'])
    op.create_table(
        'migrations',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('volume_id', sa.String(36), nullable=False),
        sa.Column('source_backend_id', sa.String(36),
                  sa.ForeignKey('backends.id'), nullable=False),
        sa.Column('dest_backend_id', sa.String(36),
                  sa.ForeignKey('backends.id'), nullable=False),
        sa.Column('dest_volume_id', sa.String(36), nullable=True),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('phase', sa.String(32), nullable=False),
        sa.Column('force', sa.Boolean, nullable=False),
        sa.Column('previous_volume_status', sa.String(32), nullable=False),
        sa.Column('cancel_requested', sa.Boolean, nullable=False),
        sa.Column('copy_host', sa.String(255), nullable=True),
        sa.Column('bytes_done', sa.BigInteger, nullable=False),
        sa.Column('bytes_total', sa.BigInteger, nullable=False),
        sa.Column('rate_bps', sa.BigInteger, nullable=True),
        sa.Column('progress_updated_at', sa.DateTime, nullable=True),
        sa.Column('started_at', sa.DateTime, nullable=True),
        sa.Column('finished_at', sa.DateTime, nullable=True),
        sa.Column('error', sa.Text, nullable=True),
        sa.Column('attachment_id', sa.String(36), nullable=True),
        sa.Column('dest_attachment_id', sa.String(36), nullable=True),
        sa.Column('instance_uuid', sa.String(36), nullable=True),
        sa.Column('compute_host', sa.String(255), nullable=True),
        sa.Column('fold_status', sa.String(16), nullable=True),
        sa.Column('frozen', sa.Boolean, nullable=False),
        *_timestamps())
    op.create_index('migrations_volume_id_idx', 'migrations', ['volume_id'])
    op.create_index('migrations_status_idx', 'migrations', ['status'])
