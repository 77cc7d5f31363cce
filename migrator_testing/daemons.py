"""What migrator_testing.services shares for each daemon it runs:
addresses and names checked, commands and daemons run quietly with
their output in a log, a lock per service between processes, and the
packages installed by tools/install-services.sh when missing.
"""

import contextlib
import fcntl
import ipaddress
import os
import re
import shutil
import subprocess
import time
import urllib.parse

from migrator_testing import hosts

REPO = hosts.REPO
INSTALL_SERVICES = os.path.join(REPO, 'tools', 'install-services.sh')
LOG_DIR = os.environ.get('MIGRATOR_SERVICES_LOG_DIR') or os.path.join(
    REPO, 'state', 'logs')
#: Seconds a daemon may take to answer after its start.
START_TIMEOUT = 120
NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]{0,62}$')
SECRET = re.compile(r'^[A-Za-z0-9_.-]{1,64}$')
PROJECT_NET = ipaddress.ip_network('10.0.0.0/8')


class ServiceError(RuntimeError):
    """A service could not be installed, started or set up."""


def check_address(address):
    """``address`` if it is loopback or one of the project's 10.x
    addresses, else ValueError."""
    ip = ipaddress.ip_address(address)
    if not (ip.is_loopback or ip in PROJECT_NET):
        raise ValueError('%s is neither a loopback address nor one of the '
                         'project\'s (10.0.0.0/8)' % address)
    return address


def check_names(*names, secret=None):
    for name in names:
        if not NAME.match(name):
            raise ValueError('invalid name %r' % name)
    if secret is not None and not SECRET.match(secret):
        raise ValueError('a password here is letters, digits, "_.-"')


def check_addresses(addresses):
    return None if addresses is None else [check_address(a)
                                           for a in addresses]


def log_path(name):
    os.makedirs(LOG_DIR, exist_ok=True)
    return os.path.join(LOG_DIR, '%s.log' % name)


def tail(path, lines=20):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


@contextlib.contextmanager
def locked(name, timeout=900):
    """One caller at a time sets up service ``name`` (all processes)."""
    with open('/tmp/migrator-services-%s.lock' % name, 'w') as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServiceError('the %s lock is busy' % name)
                time.sleep(0.2)
        yield


def run(name, argv, check=True, input=None):
    """Run ``argv``, its stderr in the service's log; its stdout."""
    log = log_path(name)
    with open(log, 'a') as err:
        err.write('+ %s\n' % ' '.join(argv))
        err.flush()
        proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                              stderr=err, text=True, cwd='/',
                              stdin=None if input else subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise ServiceError('%s failed (exit %d); end of %s:\n%s'
                           % (' '.join(argv), proc.returncode, log,
                              tail(log)))
    return proc.stdout if proc.returncode == 0 else None


def spawn(name, argv, wait=True):
    """Start a daemon: its own session, no descriptor of ours but its
    output to the service's log; ``wait`` for a command that detaches."""
    with open(log_path(name), 'a') as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, close_fds=True,
                                start_new_session=True, cwd='/')
    if wait and proc.wait(START_TIMEOUT) != 0:
        raise ServiceError('%s exited with %d; end of its log:\n%s'
                           % (' '.join(argv), proc.returncode,
                              tail(log_path(name))))
    return proc


def wait(name, check, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise ServiceError('%s did not answer within %d s; end of %s:\n%s'
                       % (name, timeout, log_path(name),
                          tail(log_path(name))))


def write_if_changed(path, text):
    """Write ``text`` to ``path``; whether the file changed."""
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.replace(path + '.tmp', path)
    return True


_PROGRAMS = {'rabbitmq': ('rabbitmq-server', 'rabbitmqctl'),
             'mariadb': ('mysqld_safe', 'mariadb', 'mariadb-admin'),
             'postgresql': ('pg_ctlcluster', 'pg_lsclusters', 'psql')}


def installed(name):
    return all(shutil.which(p, path='/usr/sbin:/usr/bin:/sbin:/bin')
               for p in _PROGRAMS[name])


def ensure_installed(name):
    """Install service ``name`` with tools/install-services.sh unless its
    programs are there."""
    if name == 'postgresql' and installed(name) and pg_cluster():
        return
    if name != 'postgresql' and installed(name):
        return
    env = dict(os.environ, MIGRATOR_LOG=log_path('install-services'))
    proc = subprocess.run(['bash', INSTALL_SERVICES, name],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env)
    if proc.returncode != 0:
        raise ServiceError('installing %s failed:\n%s' % (name, proc.stdout))


def url(scheme, user, password, host, port, path):
    return '%s://%s:%s@%s:%d/%s' % (
        scheme, urllib.parse.quote(user, safe=''),
        urllib.parse.quote(password, safe=''), host, port, path)


def pg_cluster():
    """(version, name) of the first PostgreSQL cluster, or None."""
    if not shutil.which('pg_lsclusters'):
        return None
    out = subprocess.run(['pg_lsclusters', '-h'], capture_output=True,
                         text=True).stdout.split()
    return (out[0], out[1]) if len(out) >= 2 else None
