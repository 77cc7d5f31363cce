"""Where the CLI's credentials and endpoint come from.

openstacksdk's config loader (``openstack.config``), as every OpenStack
client reads them: ``--os-cloud NAME`` / ``OS_CLOUD`` picks a cloud of
``clouds.yaml`` (./clouds.yaml, ~/.config/openstack/clouds.yaml,
/etc/openstack/clouds.yaml, or ``OS_CLIENT_CONFIG_FILE``), and the
``OS_*`` variables and ``--os-*`` options (``OS_AUTH_URL``,
``OS_USERNAME``, ``OS_PASSWORD``, ``OS_PROJECT_NAME``, ...) complete or
override it.  Any keystoneauth1 plugin works (``--os-auth-type``):
``password`` (the default), ``v3applicationcredential``
(``OS_APPLICATION_CREDENTIAL_ID`` and ``..._SECRET``), ``token``.

With keystone the API's endpoint is the catalog's ``volume-migration``
endpoint (interface and region from the same settings), unless
``--os-endpoint`` / ``MIGRATOR_ENDPOINT`` names one.  With no auth URL
anywhere (and with ``--os-auth-type none``) the CLI talks to
``--os-endpoint`` (default the embedded default's
http://127.0.0.1:8780) without authentication.
"""

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from openstack.config import loader
from openstack import exceptions as sdk_exc

from migrator_api.cli import client as api_client

NO_AUTH = ('none', 'noauth')


class ConfigError(Exception):
    """The CLI's configuration (clouds.yaml, OS_*) cannot be used."""


def register_arguments(parser, argv):
    """``--os-cloud``, the auth plugin's and the session's options."""
    config = loader.OpenStackConfig()
    try:
        config.register_argparse_arguments(
            parser, argv, service_keys=[api_client.SERVICE_TYPE])
    except sdk_exc.ConfigException as exc:
        raise ConfigError(str(exc))
    return config


def _cloud(config, args, validate=True):
    try:
        return config.get_one(argparse=args, validate=validate)
    except sdk_exc.ConfigException as exc:
        raise ConfigError(str(exc))
    except Exception as exc:    # keystoneauth: missing plugin options
        raise ConfigError('cannot use the credentials given: %s' % exc)


def make_client(config, args):
    """The API client the settings describe."""
    cloud = _cloud(config, args, validate=False)
    auth_type = cloud.config.get('auth_type')
    # Unvalidated, the auth options given as arguments are not yet
    # moved under 'auth'.
    auth_url = (cloud.config.get('auth', {}).get('auth_url')
                or cloud.config.get('auth_url'))
    if auth_type in NO_AUTH or not auth_url:
        sess = ks_session.Session(auth=noauth.NoAuth())
        return api_client.Client(sess, endpoint=(
            args.os_endpoint or cloud.get_endpoint(api_client.SERVICE_TYPE)
            or api_client.DEFAULT_ENDPOINT))
    cloud = _cloud(config, args)
    return api_client.Client(
        cloud.get_session(),
        endpoint=(args.os_endpoint
                  or cloud.get_endpoint(api_client.SERVICE_TYPE)),
        interface=cloud.get_interface(api_client.SERVICE_TYPE) or 'public',
        region_name=cloud.get_region_name(api_client.SERVICE_TYPE),
        auth_url=auth_url)
