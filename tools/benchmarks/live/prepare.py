"""Setting up and tearing down a run of the live benchmark: the work
directory, migrator's driver and copier, the two OS-less domains."""

import os
import platform
import shutil
import sys
import time
import uuid as uuid_mod

from benchmarks import common
from benchmarks.live import copier
from benchmarks.live import session as session_mod
from migrator_testing import guests

GiB = common.GiB


def setup(s):
    """Make session ``s`` ready: work directory, configuration, the copy
    worker, the driver (with the hold timer), the two domains."""
    _workdir(s)
    try:
        import libvirt  # noqa: F401
        import libvirt_qemu  # noqa: F401
    except ImportError:
        raise common.BenchError('libvirt-python is missing: run '
                                'tools/install-libvirt.sh %s'
                                % sys.executable)
    conf = common.migrator_conf()
    conf.set_override('state_path', os.path.join(s.workdir, 'state'))
    conf.set_override('driver', 'libvirt', group='compute')
    s.conf = conf
    os.makedirs(os.path.join(s.workdir, 'state'))
    s.copy_worker = copier.CopyWorker()

    from migrator_compute.drivers import base as drv_base
    s.timer.install()
    try:
        s.driver = drv_base.load_driver(conf)
        with s.unit():
            # The driver's connection (it registers libvirt's event
            # loop), and ours, for the mirror and the domains.
            s.driver.host.get()
    except Exception as e:
        raise common.BenchError('libvirt is not usable (%s): run '
                                'tools/install-libvirt.sh %s'
                                % (e, sys.executable))
    with s.unit():
        for role in ('ours', 'mirror'):
            s.domains[role] = _create_domain(s, role)
        for name, _uuid in s.domains.values():
            _wait_vcpu_idle(name)
        s.results['environment'] = _environment(s)


def _workdir(s):
    a = s.args
    if os.geteuid() != 0:
        raise common.BenchError('run as root (QEMU and /dev/kvm need it)')
    common.check_free(a.workdir, 4 * max(a.sizes) + 2 * a.small_size + GiB)
    s.workdir = os.path.join(a.workdir, '%s-%d-%s' % (
        session_mod.PREFIX, os.getpid(), uuid_mod.uuid4().hex[:6]))
    os.makedirs(s.workdir)
    os.chmod(s.workdir, 0o755)


def _create_domain(s, role):
    uuid = str(uuid_mod.uuid4())
    name = '%s-%s-%s' % (session_mod.PREFIX, role, uuid[:8])
    boot = guests.write_halting_boot_disk(
        os.path.join(s.workdir, 'boot-%s.raw' % role))
    s.domains[role] = (name, uuid)       # cleaned up even if...
    guests.create_domain(s.conn, name, uuid, boot_disk=boot)
    return name, uuid


def _wait_vcpu_idle(name, timeout=30):
    """SeaBIOS spins for a few seconds before it boots the sector
    that halts the vCPU: wait for that."""
    pid = guests.qemu_pid(name)
    deadline = time.monotonic() + timeout
    last = common.vcpu_ns(common.cpu_sample(pid))
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = common.vcpu_ns(common.cpu_sample(pid))
        if now - last < 5e6:
            return
        last = now
    common.log('warning: the vCPU of %s is still busy after %ss', name,
               timeout)


def _environment(s):
    import libvirt
    env = {'host': platform.node(), 'kernel': platform.release(),
           'cpus': os.cpu_count(), 'python': platform.python_version(),
           'libvirt': s.conn.getLibVersion(),
           'qemu': s.conn.getVersion(),
           'libvirt_python': libvirt.getVersion(),
           'domain_type': guests.domain_type(s.conn),
           'workdir': s.workdir,
           'loadavg_start': os.getloadavg()}
    for role, (name, _u) in s.domains.items():
        pid = guests.qemu_pid(name)
        a = common.cpu_sample(pid)
        time.sleep(0.5)
        b = common.cpu_sample(pid)
        env['%s_vcpu_busy_fraction' % role] = (
            (common.vcpu_ns(b) - common.vcpu_ns(a)) / 1e9 / 0.5)
    return env


def cleanup(s):
    """Stop the writers and the copy worker, remove the domains, the
    driver's state and (unless ``--keep``) the work directory."""
    for w in s.writers:
        w.halt()
    if s.copy_worker is not None:
        s.copy_worker.stop()
    try:
        with s.unit(wait=120, connect=False):
            _cleanup_libvirt(s)
    except Exception as e:
        common.log('cleanup: %s', e)
    s.release_lock_file()
    if s.workdir and not s.args.keep:
        shutil.rmtree(s.workdir, ignore_errors=True)


def _cleanup_libvirt(s):
    import libvirt
    try:
        conn = guests.open_connection(timeout=0)
    except Exception:
        conn = None
    for name, _uuid in s.domains.values():
        if conn is None:
            break
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError:
            continue
        for step in (dom.destroy, dom.undefine):
            try:
                step()
            except libvirt.libvirtError:
                pass
    for c in (conn, s.conn):
        if c is not None:
            try:
                c.close()
            except Exception:
                pass
    if s.driver is not None:
        try:
            s.driver.cleanup()
        except Exception:
            pass
    s.timer.uninstall()
