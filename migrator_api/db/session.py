"""The database engine, transactions and the compare-and-swap helpers
every db module shares.

Every public function of the db modules is one transaction.  State
changes that race (two migrate requests for one volume, a report
arriving after a cancel) are compare-and-swap updates: ``expected``
names the values a row must still hold, and a row that no longer holds
them is left alone and reported with ``None``/``False``.
"""

import contextlib
import threading

from oslo_db.sqlalchemy import enginefacade
from oslo_utils import timeutils
import sqlalchemy as sa

from migrator_api.common import exception

_MAIN = None
# SQLite (the embedded default, one process) allows one writer at a time
# and fails, rather than waits, when a reading transaction turns into a
# writing one while another writes: writers take turns in the process.
_SQLITE_WRITE_LOCK = threading.RLock()
_serialize_writes = False


@enginefacade.transaction_context_provider
class _TxContext:
    """A private holder for one transaction."""


def configure(conf):
    """Point the API at [database] connection (fresh engine each call)."""
    global _MAIN
    dispose()
    global _serialize_writes
    ctx = enginefacade.transaction_context()
    ctx.configure(**dict(conf.database.items()))
    _MAIN = ctx
    engine = ctx.writer.get_engine()
    _serialize_writes = engine.dialect.name == 'sqlite'
    if _serialize_writes:
        sa.event.listen(engine, 'connect', _sqlite_pragmas)
        engine.dispose()


def _sqlite_pragmas(dbapi_conn, record):
    cursor = dbapi_conn.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA busy_timeout=30000')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.close()


def dispose():
    global _MAIN
    if _MAIN is not None:
        try:
            _MAIN.writer.get_engine().dispose()
        except Exception:
            pass
    _MAIN = None


def get_engine():
    return _MAIN.writer.get_engine()


@contextlib.contextmanager
def writer():
    if not _serialize_writes:
        with _MAIN.writer.using(_TxContext()) as session:
            yield session
        return
    with _SQLITE_WRITE_LOCK:
        with _MAIN.writer.using(_TxContext()) as session:
            yield session


def reader():
    return _MAIN.reader.using(_TxContext())


def apply_expected(query, model, expected):
    for key, value in (expected or {}).items():
        column = getattr(model, key)
        if isinstance(value, (tuple, list, set, frozenset)):
            values = list(value)
            if None in values:
                values.remove(None)
                query = query.filter(sa.or_(column.in_(values),
                                            column.is_(None)))
            else:
                query = query.filter(column.in_(values))
        elif value is None:
            query = query.filter(column.is_(None))
        else:
            query = query.filter(column == value)
    return query


def update(session, model, row_id, values, expected):
    query = apply_expected(session.query(model).filter_by(id=row_id),
                           model, expected)
    values = dict(values)
    values.setdefault('updated_at', timeutils.utcnow())
    return query.update(values, synchronize_session=False) == 1


def paginate(query, model, limit, marker, sort_key='created_at'):
    sort_col = getattr(model, sort_key)
    if marker is not None:
        marker_row = query.session.query(model).filter_by(
            id=marker).one_or_none()
        if marker_row is None:
            raise exception.InvalidInput(
                reason='marker %s does not exist' % marker)
        mval = getattr(marker_row, sort_key)
        query = query.filter(sa.or_(sort_col > mval,
                                    sa.and_(sort_col == mval,
                                            model.id > marker)))
    query = query.order_by(sort_col, model.id)
    if limit is not None:
        query = query.limit(limit)
    return query.all()


def get(model, row_id, not_found, **filters):
    with reader() as session:
        row = session.query(model).filter_by(id=row_id,
                                             **filters).one_or_none()
        if row is None:
            raise not_found
        return row
