"""A client of a deployment that ``up`` made: its admin settings (the
``openrc`` it wrote) and a keystone session with them."""

import os


def settings(state):
    """{OS_*: value} of ``<state>/openrc``."""
    found = {}
    with open(os.path.join(state, 'openrc')) as f:
        for line in f:
            key, value = line.split(' ', 1)[1].strip().split('=', 1)
            found[key] = value
    return found


def session(state):
    """A keystoneauth1 session as the deployment's admin."""
    from keystoneauth1 import loading
    from keystoneauth1 import session as ks_session
    env = settings(state)
    auth = loading.get_plugin_loader('password').load_from_options(
        auth_url=env['OS_AUTH_URL'], username=env['OS_USERNAME'],
        password=env['OS_PASSWORD'], project_name=env['OS_PROJECT_NAME'],
        user_domain_name=env.get('OS_USER_DOMAIN_NAME', 'Default'),
        project_domain_name=env.get('OS_PROJECT_DOMAIN_NAME', 'Default'))
    return ks_session.Session(auth=auth)
