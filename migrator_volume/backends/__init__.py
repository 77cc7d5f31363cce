"""Storage backend drivers and the factory building them from the
configuration (``[volume] enabled_backends``, one section each)."""

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.conf import backend as backend_conf
from migrator_volume.backends import block
from migrator_volume.backends import file

LOG = logging.getLogger(__name__)

DRIVERS = {
    'file': file.FileDriver,
    'block': block.BlockDriver,
}


def load_backends(conf):
    """Build and set up the enabled backends; return {name: driver}."""
    drivers = {}
    for name in conf.volume.enabled_backends:
        group = backend_conf.register_backend_opts(conf, name)
        driver = DRIVERS[group.backend_type](name, group, conf.state_path)
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
