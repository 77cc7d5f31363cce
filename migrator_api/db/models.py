"""SQLAlchemy models of migrator's state."""

from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm

from migrator_api.common import states

Base = orm.declarative_base()


def _uuid_col(*args, **kw):
    return sa.Column(sa.String(36), *args, **kw)


class TimestampMixin:
    created_at = sa.Column(sa.DateTime, nullable=False,
                           default=timeutils.utcnow)
    updated_at = sa.Column(sa.DateTime, nullable=True,
                           onupdate=timeutils.utcnow)


class Service(TimestampMixin, Base):
    """An agent (volume worker, compute agent) and its last heartbeat."""
    __tablename__ = 'services'
    __table_args__ = (sa.UniqueConstraint('host', 'binary',
                                          name='uniq_services0host0binary'),)
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    host = sa.Column(sa.String(255), nullable=False)
    binary = sa.Column(sa.String(64), nullable=False)
    last_seen_at = sa.Column(sa.DateTime, nullable=True)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)


class Backend(TimestampMixin, Base):
    """A storage backend as last reported by the worker serving it."""
    __tablename__ = 'backends'
    id = _uuid_col(primary_key=True)
    name = sa.Column(sa.String(255), nullable=False, unique=True)
    host = sa.Column(sa.String(255), nullable=False)
    backend_type = sa.Column(sa.String(32), nullable=False)
    capabilities = sa.Column(sa.JSON, nullable=False, default=dict)
    total_capacity_bytes = sa.Column(sa.BigInteger, nullable=True)
    free_capacity_bytes = sa.Column(sa.BigInteger, nullable=True)


class Volume(TimestampMixin, Base):
    __tablename__ = 'volumes'
    __table_args__ = (sa.Index('volumes_migration_status_idx',
                               'migration_status'),
                      sa.Index('volumes_backend_id_idx', 'backend_id'))
    id = _uuid_col(primary_key=True)
    name = sa.Column(sa.String(255), nullable=True)
    project_id = sa.Column(sa.String(255), nullable=True)
    user_id = sa.Column(sa.String(255), nullable=True)
    size = sa.Column(sa.BigInteger, nullable=False)
    status = sa.Column(sa.String(32), nullable=False,
                       default=states.CREATING)
    backend_id = _uuid_col(sa.ForeignKey('backends.id'), nullable=False)
    # Connection description (Cinder connection_info shape).
    location = sa.Column(sa.JSON, nullable=True)
    # The id the backend knows the data by: the volume's own id until a
    # migration gives the volume the data of its destination volume.
    provider_id = _uuid_col(nullable=True)
    migration_status = sa.Column(sa.String(32), nullable=True)
    # A migration's temporary destination: never shown to non-admins.
    hidden = sa.Column(sa.Boolean, nullable=False, default=False)
    error = sa.Column(sa.Text, nullable=True)

    backend = orm.relationship(Backend, lazy='joined')


class Attachment(TimestampMixin, Base):
    __tablename__ = 'attachments'
    __table_args__ = (sa.Index('attachments_volume_id_idx', 'volume_id'),)
    id = _uuid_col(primary_key=True)
    volume_id = _uuid_col(sa.ForeignKey('volumes.id'), nullable=False)
    instance_uuid = _uuid_col(nullable=False)
    host = sa.Column(sa.String(255), nullable=False)
    status = sa.Column(sa.String(32), nullable=False)
    device = sa.Column(sa.String(64), nullable=True)
    error = sa.Column(sa.Text, nullable=True)


class Migration(TimestampMixin, Base):
    """One migration of one volume; phase is recorded before each step."""
    __tablename__ = 'migrations'
    __table_args__ = (sa.Index('migrations_volume_id_idx', 'volume_id'),
                      sa.Index('migrations_status_idx', 'status'),
                      sa.Index('migrations_conductor_host_idx',
                               'conductor_host'))
    id = _uuid_col(primary_key=True)
    # No foreign key: a migration's record outlives its volume.
    volume_id = _uuid_col(nullable=False)
    source_backend_id = _uuid_col(sa.ForeignKey('backends.id'),
                                  nullable=False)
    dest_backend_id = _uuid_col(sa.ForeignKey('backends.id'),
                                nullable=False)
    dest_volume_id = _uuid_col(nullable=True)
    status = sa.Column(sa.String(32), nullable=False)
    phase = sa.Column(sa.String(32), nullable=False)
    force = sa.Column(sa.Boolean, nullable=False, default=False)
    previous_volume_status = sa.Column(sa.String(32), nullable=False)
    cancel_requested = sa.Column(sa.Boolean, nullable=False, default=False)
    copy_host = sa.Column(sa.String(255), nullable=True)
    bytes_done = sa.Column(sa.BigInteger, nullable=False, default=0)
    bytes_total = sa.Column(sa.BigInteger, nullable=False, default=0)
    rate_bps = sa.Column(sa.BigInteger, nullable=True)
    progress_updated_at = sa.Column(sa.DateTime, nullable=True)
    started_at = sa.Column(sa.DateTime, nullable=True)
    finished_at = sa.Column(sa.DateTime, nullable=True)
    error = sa.Column(sa.Text, nullable=True)
    # In-use volumes: the attachment being switched (compute contract),
    # the one the destination is attached by afterwards, and where.
    attachment_id = _uuid_col(nullable=True)
    dest_attachment_id = _uuid_col(nullable=True)
    instance_uuid = _uuid_col(nullable=True)
    compute_host = sa.Column(sa.String(255), nullable=True)
    # The compute agent's asynchronous fold-in: None, 'done' or 'error'.
    fold_status = sa.Column(sa.String(16), nullable=True)
    # Recorded before volume_migration_start is called: a rollback must
    # then ask the compute agent to cancel.
    frozen = sa.Column(sa.Boolean, nullable=False, default=False)
    # The conductor driving the migration now and when it last renewed
    # its claim (conductor.claims); both None while nobody drives it.
    conductor_host = sa.Column(sa.String(255), nullable=True)
    claimed_at = sa.Column(sa.DateTime, nullable=True)
    # Bytes the frozen guest's overlay takes on the compute host, as the
    # agent last reported it; None when it never reported one.
    overlay_bytes = sa.Column(sa.BigInteger, nullable=True)

    source_backend = orm.relationship(Backend, lazy='joined',
                                      foreign_keys=[source_backend_id])
    dest_backend = orm.relationship(Backend, lazy='joined',
                                    foreign_keys=[dest_backend_id])
