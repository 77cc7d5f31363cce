"""The processes of the deployment: started as daemons inside their
host, recorded by pid, stopped by pid; and the libvirtd of each compute
host.

A libvirtd of its own per compute host (``libvirtd-<host>``): inside
the host's network
namespace, ``unshare --mount`` gives it a private mount namespace in
which the host's directories under ``state/<host>/libvirt/`` are bound
over /run/libvirt, /var/lib/libvirt, /etc/libvirt, /var/log/libvirt and
/var/cache/libvirt.  Its sockets, pid file, domain definitions, QEMU
state and logs are the host's alone, the QEMU guests it starts run in
the host's network namespace, and the host's compute agent reaches it
through ``qemu+unix:///system?socket=<state>/<host>/libvirt/run/
libvirt-sock``.  QEMU writes its own logs (``stdio_handler = "file"``:
no virtlogd) and no cgroups are used, so two libvirtds share nothing.
"""

import os
import shlex
import shutil
import signal
import subprocess
import time

LIBVIRTD_CONF = """# Written by tools/deploy: this host's libvirtd.
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
auth_unix_ro = "none"
"""
# QEMU runs as root (/dev/kvm is root-only here), writes its own logs
# and needs no cgroup: nothing is shared with another host's libvirtd.
QEMU_CONF = """# Written by tools/deploy: this host's QEMU driver.
user = "root"
group = "root"
security_driver = "none"
stdio_handler = "file"
cgroup_controllers = [ ]
"""
MOUNTS = (('run', '/run/libvirt'), ('lib', '/var/lib/libvirt'),
          ('etc', '/etc/libvirt'), ('log', '/var/log/libvirt'),
          ('cache', '/var/cache/libvirt'))


def alive(pid, marker=None):
    """Whether ``pid`` runs (not a zombie) and, with ``marker``, its
    command line names it (a pid reused by another process does not)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                return False
        if marker is None:
            return True
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return marker.encode() in f.read()
    except (OSError, IndexError, ValueError):
        return False


def start(host, argv, log, cwd):
    """Start ``argv`` inside ``host`` as a daemon: a session of its own,
    stdin from /dev/null, its output appended to ``log``, no other
    descriptor of ours.  Returns its pid (``ip netns exec`` and the
    commands below exec, so it is the service's own)."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'a') as out:
        proc = subprocess.Popen(host.cmd(argv), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT,
                                close_fds=True, start_new_session=True,
                                cwd=cwd)
    return proc.pid


def stop(entries, timeout=30):
    """SIGTERM every live (pid, marker) at once, SIGKILL what is left
    after ``timeout`` seconds; returns once all are gone."""
    live = [(pid, marker) for pid, marker in entries if alive(pid, marker)]
    for pid, _marker in live:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while live:
        live = [(p, m) for p, m in live if alive(p, m)]
        if time.monotonic() > deadline:
            for pid, _marker in live:
                _signal(pid, signal.SIGKILL)
        time.sleep(0.1)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def children(pid):
    """``pid``'s descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open('/proc/%d/task/%d/children' % (p, p)) as f:
                kids = [int(c) for c in f.read().split()]
        except OSError:
            kids = []
        found += kids
        todo += kids
    return found


# -- libvirtd of one host ----------------------------------------------

def libvirtd_argv(directory, host):
    """The command running the libvirtd whose files are in
    ``directory`` (made here), in a mount namespace of its own.

    It runs as ``libvirtd-<host>`` (a link to libvirtd): whatever finds
    or kills the machine's own libvirtd by name (``pkill -x libvirtd``,
    the test fixtures, tools/start-libvirt.sh) leaves it alone.
    """
    for sub, _target in MOUNTS:
        os.makedirs(os.path.join(directory, sub), exist_ok=True)
    link = os.path.join(directory, 'libvirtd-%s' % host)
    binary = shutil.which('libvirtd', path='/usr/sbin:/usr/bin:/sbin:/bin')
    if binary is None:
        raise RuntimeError('no libvirtd: install libvirt-daemon-system')
    if not os.path.islink(link) or os.readlink(link) != binary:
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(binary, link)
    for name, text in (('libvirtd.conf', LIBVIRTD_CONF),
                       ('qemu.conf', QEMU_CONF)):
        with open(os.path.join(directory, 'etc', name), 'w') as f:
            f.write(text)
    binds = ['mkdir -p %s && mount --bind %s %s'
             % (target, shlex.quote(os.path.join(directory, sub)), target)
             for sub, target in MOUNTS]
    script = ' && '.join(binds + ['exec %s --pid-file %s' % (
        shlex.quote(link), shlex.quote(os.path.join(directory,
                                                    'libvirtd.pid')))])
    return ['unshare', '--mount', '--propagation', 'private', '--',
            'sh', '-c', script]


def virsh(uri, *args, timeout=20):
    return subprocess.run(['virsh', '-q', '-c', uri] + list(args),
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def libvirtd_answers(uri):
    try:
        return virsh(uri, 'version', timeout=5).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def destroy_domains(uri):
    """Stop every running guest of that libvirtd (best effort)."""
    try:
        names = virsh(uri, 'list', '--name').stdout.split()
        for name in names:
            virsh(uri, 'destroy', name)
    except (OSError, subprocess.TimeoutExpired):
        pass
