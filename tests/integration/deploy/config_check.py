"""Whether a config file names only options migrator's commands know,
each with a value its type accepts.

The options are those of the sample generator's namespaces
(etc/migrator/migrator-config-generator.conf: migrator and the
libraries), the password plugin's of ``[keystone_authtoken]`` (what
keystonemiddleware loads for ``auth_type = password``) and the backend
options in each section ``[volume] enabled_backends`` names.
"""

import configparser

from keystoneauth1 import loading
from oslo_config import cfg
from oslo_config import generator

from migrator_api.conf import backend as backend_conf

NAMESPACES = ['migrator', 'oslo.db', 'oslo.log', 'oslo.messaging',
              'oslo.policy', 'keystonemiddleware.auth_token']


def _conf():
    conf = cfg.ConfigOpts()
    for _namespace, groups in generator._list_opts(NAMESPACES):
        for group, opts in groups:
            name = getattr(group, 'name', group)
            if name == backend_conf.SAMPLE_GROUP:
                continue
            conf.register_opts(opts, group=None if name == 'DEFAULT'
                               else name)
    return conf


def problems(path):
    """What is wrong in the file at ``path``: [] when it is right."""
    conf = _conf()
    conf([], default_config_files=[path], project='migrator')
    # Registered after parsing: required (auth_url) only where used.
    conf.register_opts(loading.get_auth_plugin_conf_options('password'),
                       group='keystone_authtoken')
    backends = conf.volume.enabled_backends
    for name in backends:
        backend_conf.register_backend_opts(conf, name)
    raw = configparser.RawConfigParser()
    raw.read(path)
    found = []
    sections = [('DEFAULT', raw.defaults())] + [
        (s, {k: v for k, v in raw.items(s, raw=True)
             if k not in raw.defaults()}) for s in raw.sections()]
    for section, values in sections:
        group = None if section == 'DEFAULT' else section
        for key in values:
            try:
                (conf[group] if group else conf)[key]
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
                found.append('unknown option [%s] %s' % (section, key))
            except (cfg.ConfigFileValueError, ValueError) as exc:
                found.append('bad value of [%s] %s: %s'
                             % (section, key, exc))
    return found
