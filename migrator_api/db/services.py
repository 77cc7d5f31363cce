"""Services (agents and their heartbeats) and the backends they serve."""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from migrator_api.common import exception
from migrator_api.db import models
from migrator_api.db import session as s


def service_report(host, binary):
    now = timeutils.utcnow()
    with s.writer() as session:
        row = session.query(models.Service).filter_by(
            host=host, binary=binary).one_or_none()
        if row is None:
            row = models.Service(host=host, binary=binary)
            session.add(row)
        row.last_seen_at = now
        session.flush()
        session.expunge(row)
        return row


def service_get_all(binary=None, host=None):
    with s.reader() as session:
        query = session.query(models.Service)
        if binary:
            query = query.filter_by(binary=binary)
        if host:
            query = query.filter_by(host=host)
        return query.order_by(models.Service.id).all()


def service_get(host, binary):
    with s.reader() as session:
        return session.query(models.Service).filter_by(
            host=host, binary=binary).one_or_none()


def backend_sync(host, reports):
    """Record the backends a worker serves, as it just reported them."""
    with s.writer() as session:
        for report in reports or []:
            row = session.query(models.Backend).filter_by(
                name=report['name']).one_or_none()
            if row is None:
                row = models.Backend(id=uuidutils.generate_uuid(),
                                     name=report['name'])
                session.add(row)
            row.host = host
            row.backend_type = report['backend_type']
            row.capabilities = dict(report.get('capabilities') or {})
            row.total_capacity_bytes = report.get('total_capacity_bytes')
            row.free_capacity_bytes = report.get('free_capacity_bytes')
            row.updated_at = timeutils.utcnow()


def backend_get_all(filters=None):
    filters = filters or {}
    with s.reader() as session:
        query = session.query(models.Backend)
        for key in ('name', 'host', 'backend_type'):
            if filters.get(key) is not None:
                query = query.filter(getattr(models.Backend, key)
                                     == filters[key])
        return query.order_by(models.Backend.name).all()


def backend_get(ident):
    """A backend by id or by name."""
    with s.reader() as session:
        row = session.query(models.Backend).filter(
            sa.or_(models.Backend.id == ident,
                   models.Backend.name == ident)).one_or_none()
        if row is None:
            raise exception.BackendNotFound(backend=ident)
        return row
