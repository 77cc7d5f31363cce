"""libvirtd and loop devices of the machine the tests run on."""

import os
import signal
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_LIBVIRT = os.path.join(REPO, 'tools', 'start-libvirt.sh')
#: Whoever uses libvirtd holds this lock shared, whoever restarts it
#: holds it exclusively (the integration tests and the live benchmark).
HOST_LOCK = '/tmp/migrator-tests-libvirtd.lock'


def pids_of(name):
    """Pids of the live (not zombie) processes whose command is ``name``,
    in this mount namespace: a daemon of a chroot or a container shares
    the name, not the sockets, and is not ours to wait for or kill."""
    own = os.readlink('/proc/self/ns/mnt')
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/comm' % entry) as f:
                if f.read().strip() != name:
                    continue
            with open('/proc/%s/stat' % entry) as f:
                if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                    continue
            if os.readlink('/proc/%s/ns/mnt' % entry) != own:
                continue
        except (OSError, IndexError):
            continue
        pids.append(int(entry))
    return pids


def libvirtd_pid():
    pids = pids_of('libvirtd')
    return pids[0] if pids else None


def start_libvirt():
    """Make virtlogd and libvirtd run and answer (tools/start-libvirt.sh:
    the daemons inherit none of this process's descriptors)."""
    subprocess.run(['bash', START_LIBVIRT], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def wait_gone(name, pids=None, timeout=30):
    """Wait until no live process ``name`` (of ``pids``, default: any)
    is left; RuntimeError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids_of(name) if pids is None or p in pids]
        if not left:
            return
        if time.monotonic() > deadline:
            raise RuntimeError('%s %s did not exit' % (name, left))
        time.sleep(0.05)


def restart_libvirtd(sig=signal.SIGKILL):
    """Kill libvirtd (SIGKILL by default: a crash) and start it again;
    returns once it answers.  Running domains survive."""
    pid = libvirtd_pid()
    if pid:
        os.kill(pid, sig)
        wait_gone('libvirtd', [pid])
    start_libvirt()


def attach_loop(path, direct_io=False):
    """A loop device over ``path``; returns its device path.
    ``direct_io``: the device reads and writes its file with O_DIRECT
    (it behaves as a disk, without a second page cache)."""
    cmd = ['losetup', '-f', '--show'] + (
        ['--direct-io=on'] if direct_io else []) + [path]
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          text=True).stdout.strip()


def detach_loop(device, backing_file):
    """Detach a loop device, but only while it is still ours: a device
    detached earlier may since back another test's file."""
    name = os.path.basename(device)
    try:
        with open('/sys/block/%s/loop/backing_file' % name) as f:
            current = f.read().strip()
    except OSError:
        return  # not attached any more
    if os.path.realpath(current) == os.path.realpath(backing_file):
        subprocess.run(['losetup', '-d', device], check=False,
                       stderr=subprocess.DEVNULL)
