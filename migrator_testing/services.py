"""RabbitMQ, MariaDB and PostgreSQL for the multi-host tests and the
local deployment: each installed when missing (tools/install-services.sh),
started when not running and set up for migrator, idempotently and
quietly, and each call returns the URL to put in migrator's
configuration::

    from migrator_testing import services
    services.rabbitmq()
    #  rabbit://migrator:PASSWORD@127.0.0.1:5672/
    services.rabbitmq(vhost='mig_t1')       # a virtual host of its own
    #  rabbit://migrator:PASSWORD@127.0.0.1:5672/mig_t1
    services.mariadb(host='10.77.0.1')
    #  mysql+pymysql://migrator:PASSWORD@10.77.0.1:3306/migrator?charset=utf8mb4
    services.postgresql(database='migrator_t1')
    #  postgresql+psycopg2://migrator:PASSWORD@127.0.0.1:5432/migrator_t1
    services.drop_database(url)
    services.drop_vhost(url)

* Clients log in as a user of their own (``migrator`` by default:
  RabbitMQ's ``guest`` works from 127.0.0.1 only), from loopback or any
  address of the project's network namespaces (10.0.0.0/8).
* Names (users, databases, virtual hosts) are letters, digits and
  ``_``; passwords may also hold ``.`` and ``-`` (they go into SQL,
  command lines and URLs unquoted).
* ``addresses=None``: the daemon listens on every address of the root
  namespace (so the hosts reach it through their bridge); a list names
  the addresses.  Only loopback and 10.x addresses are accepted, as
  ``host`` (the address the URL names) too.
* Daemons are started in a session of their own with stdin from
  /dev/null, their output in ``state/logs/<service>.log`` and no other
  descriptor of the caller.  A daemon already running is left alone
  unless its listening addresses must change (then it is restarted).
* Callers in parallel (test workers, the deployment) take turns through
  a lock per service; a call that finds everything ready returns after
  one login.
* Test settings: MariaDB and PostgreSQL do not flush their log at each
  commit (these databases hold test and demo state only).

Nothing in migrator_api, migrator_volume or migrator_compute imports
this module.
"""

import os
import shutil
import urllib.parse

from migrator_testing import daemons as d
from migrator_testing import hosts

USER = 'migrator'
PASSWORD = 'migrator-test-secret'
DATABASE = 'migrator'
RABBITMQ_CONF = '/etc/rabbitmq/rabbitmq.conf'
MARIADB_CONF = '/etc/mysql/mariadb.conf.d/99-migrator.cnf'
PG_HBA_MARK = '# migrator: the project\'s own network namespaces'

ServiceError = d.ServiceError
check_address = d.check_address
log_path = d.log_path


# -- RabbitMQ ----------------------------------------------------------

def _amqp_login(host, port, user, password, vhost='/'):
    import amqp
    try:
        conn = amqp.Connection('%s:%d' % (host, port), userid=user,
                               password=password, virtual_host=vhost,
                               connect_timeout=2)
        conn.connect()
        conn.close()
        return True
    except Exception:
        return False


def _rabbit_conf(addresses, port):
    lines = ['# Written by migrator_testing/services.py.']
    if addresses is None:
        lines.append('listeners.tcp.default = %d' % port)
    else:
        lines += ['listeners.tcp.%d = %s:%d' % (i + 1, a, port)
                  for i, a in enumerate(addresses)]
    return '\n'.join(lines) + '\n'


def _rabbit_answers():
    return d.run('rabbitmq', ['rabbitmqctl', '-q', 'await_startup',
                              '--timeout', '5'], check=False) is not None


def _rabbit_start(conf_changed):
    if hosts.pids_of('beam.smp') and conf_changed:
        d.run('rabbitmq', ['rabbitmqctl', 'stop'], check=False)
        d.wait('rabbitmq', lambda: not hosts.pids_of('beam.smp'), 60)
    if not hosts.pids_of('beam.smp'):
        d.spawn('rabbitmq', ['rabbitmq-server', '-detached'])
    d.wait('rabbitmq', _rabbit_answers)


def _rabbit_user(user, password):
    out = d.run('rabbitmq', ['rabbitmqctl', '-q', '--no-table-headers',
                             'list_users'])
    if user in [line.split('\t')[0] for line in out.splitlines()]:
        d.run('rabbitmq', ['rabbitmqctl', '-q', 'change_password', user,
                           password])
    else:
        d.run('rabbitmq', ['rabbitmqctl', '-q', 'add_user', user, password])
    d.run('rabbitmq', ['rabbitmqctl', '-q', 'set_permissions', '-p', '/',
                       user, '.*', '.*', '.*'])


def _rabbit_vhost(vhost, user):
    # Fails when it exists: then the permissions below are set again.
    d.run('rabbitmq', ['rabbitmqctl', '-q', 'add_vhost', vhost], check=False)
    d.run('rabbitmq', ['rabbitmqctl', '-q', 'set_permissions', '-p', vhost,
                       user, '.*', '.*', '.*'])


def rabbitmq(user=USER, password=PASSWORD, host='127.0.0.1',
             addresses=None, port=5672, vhost='/'):
    """RabbitMQ answering ``user`` on ``host`` in ``vhost`` (made when
    missing: a test deployment of its own, sharing the server with
    others); its transport_url."""
    d.check_address(host)
    addresses = d.check_addresses(addresses)
    d.check_names(user, secret=password)
    if vhost != '/':
        d.check_names(vhost)
    url = d.url('rabbit', user, password, host, port,
                '' if vhost == '/' else vhost)
    if _amqp_login(host, port, user, password, vhost):
        return url
    with d.locked('rabbitmq'):
        if not _amqp_login(host, port, user, password):
            d.ensure_installed('rabbitmq')
            changed = d.write_if_changed(RABBITMQ_CONF,
                                         _rabbit_conf(addresses, port))
            _rabbit_start(changed)
            _rabbit_user(user, password)
        if vhost != '/':
            _rabbit_vhost(vhost, user)
    d.wait('rabbitmq', lambda: _amqp_login(host, port, user, password,
                                           vhost), 60)
    return url


def drop_vhost(url):
    """Delete the virtual host a URL of rabbitmq() names (not ``/``;
    gone already: fine)."""
    vhost = urllib.parse.unquote(urllib.parse.urlsplit(url).path[1:])
    if not vhost or vhost == '/':
        raise ValueError('not a URL of a virtual host of its own: %s' % url)
    d.check_names(vhost)
    d.run('rabbitmq', ['rabbitmqctl', '-q', 'delete_vhost', vhost],
          check=False)


# -- MariaDB -----------------------------------------------------------

def _mariadb_conf(addresses, port):
    return ('# Written by migrator_testing/services.py.\n[mysqld]\n'
            'bind-address = %s\nport = %d\nskip-name-resolve\n'
            'log_error = /var/log/mysql/error.log\nmax_connections = 1000\n'
            'innodb_flush_log_at_trx_commit = 2\n'
            'character-set-server = utf8mb4\n'
            % (','.join(addresses) if addresses else '0.0.0.0', port))


def _mariadb_sql(sql):
    """Run SQL as MariaDB's root (its unix socket); its output."""
    return d.run('mariadb', ['mariadb', '--batch', '--skip-column-names',
                             '-u', 'root'], input=sql)


def _mariadb_answers():
    return d.run('mariadb', ['mariadb', '-u', 'root', '-e', 'SELECT 1'],
                 check=False) is not None


def _mariadb_start(conf_changed):
    if hosts.pids_of('mariadbd') and conf_changed:
        d.run('mariadb', ['mariadb-admin', '-u', 'root', 'shutdown'],
              check=False)
        d.wait('mariadb', lambda: not (hosts.pids_of('mariadbd') or
                                       hosts.pids_of('mysqld_safe')), 60)
    if not (hosts.pids_of('mariadbd') or hosts.pids_of('mysqld_safe')):
        os.makedirs('/run/mysqld', exist_ok=True)
        shutil.chown('/run/mysqld', 'mysql', 'mysql')
        os.makedirs('/var/log/mysql', exist_ok=True)
        shutil.chown('/var/log/mysql', 'mysql', 'adm')
        d.spawn('mariadb', ['mysqld_safe'], wait=False)
    d.wait('mariadb', _mariadb_answers)


def _mysql_login(host, port, user, password, database):
    try:
        import pymysql
        pymysql.connect(host=host, port=port, user=user, password=password,
                        database=database, connect_timeout=2).close()
        return True
    except Exception:
        return False


def mariadb(database=DATABASE, user=USER, password=PASSWORD,
            host='127.0.0.1', addresses=None, port=3306):
    """MariaDB with ``database`` owned by ``user``; its connection URL."""
    d.check_address(host)
    addresses = d.check_addresses(addresses)
    d.check_names(database, user, secret=password)
    url = d.url('mysql+pymysql', user, password, host, port,
                database + '?charset=utf8mb4')
    if _mysql_login(host, port, user, password, database):
        return url
    with d.locked('mariadb'):
        d.ensure_installed('mariadb')
        _mariadb_start(d.write_if_changed(MARIADB_CONF,
                                          _mariadb_conf(addresses, port)))
        _mariadb_sql(
            "CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4;\n"
            "CREATE USER IF NOT EXISTS '{u}'@'%' IDENTIFIED BY '{p}';\n"
            "ALTER USER '{u}'@'%' IDENTIFIED BY '{p}';\n"
            "GRANT ALL PRIVILEGES ON `{db}`.* TO '{u}'@'%';\n".format(
                db=database, u=user, p=password))
    d.wait('mariadb', lambda: _mysql_login(host, port, user, password,
                                           database), 60)
    return url


# -- PostgreSQL --------------------------------------------------------

def _pg_conf(addresses, port):
    return ('# Written by migrator_testing/services.py.\n'
            "listen_addresses = '%s'\nport = %d\nmax_connections = 500\n"
            'synchronous_commit = off\n'
            % (','.join(addresses) if addresses else '*', port))


def _pg_hba(path):
    """Let the project's addresses log in with a password; changed?"""
    with open(path) as f:
        text = f.read()
    if PG_HBA_MARK in text:
        return False
    with open(path, 'a') as f:
        f.write('\n%s\nhost all all %s scram-sha-256\n'
                % (PG_HBA_MARK, d.PROJECT_NET))
    return True


def _psql(sql, database='postgres'):
    return d.run('postgresql', ['runuser', '-u', 'postgres', '--', 'psql',
                                '-X', '-q', '-A', '-t', '-v',
                                'ON_ERROR_STOP=1', '-d', database, '-c',
                                sql])


def _pg_answers():
    return d.run('postgresql', ['runuser', '-u', 'postgres', '--', 'psql',
                                '-X', '-A', '-t', '-c', 'SELECT 1'],
                 check=False) is not None


def _pg_start(version, cluster, conf_changed, hba_changed):
    ctl = ['pg_ctlcluster', version, cluster]
    running = d.run('postgresql', ctl + ['status'], check=False) is not None
    if running and conf_changed:
        d.spawn('postgresql', ctl + ['restart'])
    elif running and hba_changed:
        d.run('postgresql', ctl + ['reload'])
    elif not running:
        d.spawn('postgresql', ctl + ['start'])
    d.wait('postgresql', _pg_answers)


def _pg_login(host, port, user, password, database):
    try:
        import psycopg2
        psycopg2.connect(host=host, port=port, user=user, password=password,
                         dbname=database, connect_timeout=2).close()
        return True
    except Exception:
        return False


def postgresql(database=DATABASE, user=USER, password=PASSWORD,
               host='127.0.0.1', addresses=None, port=5432):
    """PostgreSQL with ``database`` owned by ``user``; its URL."""
    d.check_address(host)
    addresses = d.check_addresses(addresses)
    d.check_names(database, user, secret=password)
    url = d.url('postgresql+psycopg2', user, password, host, port, database)
    if _pg_login(host, port, user, password, database):
        return url
    with d.locked('postgresql'):
        d.ensure_installed('postgresql')
        version, cluster = d.pg_cluster()
        etc = '/etc/postgresql/%s/%s' % (version, cluster)
        conf_changed = d.write_if_changed(
            os.path.join(etc, 'conf.d', 'migrator.conf'),
            _pg_conf(addresses, port))
        _pg_start(version, cluster, conf_changed,
                  _pg_hba(os.path.join(etc, 'pg_hba.conf')))
        role = "ROLE {u} LOGIN PASSWORD '{p}'".format(u=user, p=password)
        _psql("DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = "
              "'%s') THEN ALTER %s; ELSE CREATE %s; END IF; END $$"
              % (user, role, role))
        if not _psql("SELECT 1 FROM pg_database WHERE datname = '%s'"
                     % database).strip():
            _psql('CREATE DATABASE %s OWNER %s' % (database, user))
    d.wait('postgresql', lambda: _pg_login(host, port, user, password,
                                           database), 60)
    return url


# -- databases of tests ------------------------------------------------

def drop_database(url):
    """Drop the database a URL of mariadb() or postgresql() names (gone
    already: fine); the server and the user stay."""
    parsed = urllib.parse.urlsplit(url)
    database = parsed.path.lstrip('/')
    d.check_names(database)
    if parsed.scheme.startswith('mysql'):
        with d.locked('mariadb'):
            _mariadb_sql('DROP DATABASE IF EXISTS `%s`;' % database)
    elif parsed.scheme.startswith('postgresql'):
        with d.locked('postgresql'):
            _psql('DROP DATABASE IF EXISTS %s WITH (FORCE)' % database)
    else:
        raise ValueError('not a MariaDB or PostgreSQL URL: %s' % url)
