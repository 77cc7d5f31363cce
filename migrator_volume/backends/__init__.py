"""Storage backend drivers and the factory building them from the
configuration (``[volume] enabled_backends``, one section each).

A section's ``backend_type`` names the driver class among the entry
points of ``migrator.volume.backends`` (setup.cfg), loaded with
stevedore.
"""

from oslo_log import log as logging
from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exception

from migrator_api.common import exception
from migrator_api.conf import backend as backend_conf

LOG = logging.getLogger(__name__)

NAMESPACE = 'migrator.volume.backends'


def driver_class(backend_type):
    """The driver class registered for ``backend_type``."""
    try:
        return stevedore_driver.DriverManager(NAMESPACE, backend_type).driver
    except stevedore_exception.NoMatches:
        raise exception.InvalidInput(
            reason='unknown backend_type %r' % (backend_type,))


def load_backends(conf):
    """Build and set up the enabled backends; return {name: driver}."""
    drivers = {}
    for name in conf.volume.enabled_backends:
        group = backend_conf.register_backend_opts(conf, name)
        driver = driver_class(group.backend_type)(name, group,
                                                  conf.state_path)
        driver.do_setup()
        drivers[name] = driver
    if not drivers:
        LOG.warning('No backend enabled: set [volume] enabled_backends')
    return drivers


def get_backend(backends, name):
    """The driver of backend ``name``, or BackendNotFound."""
    try:
        return backends[name]
    except (KeyError, TypeError):
        raise exception.BackendNotFound(backend=name)


def find_owner(backends, location):
    """The backend a location belongs to, or InvalidInput."""
    for driver in backends.values():
        if driver.owns(location):
            return driver
    raise exception.InvalidInput(
        reason='location %r belongs to no backend of this volume worker '
               '(%s)' % (location, ', '.join(sorted(backends)) or 'none'))
