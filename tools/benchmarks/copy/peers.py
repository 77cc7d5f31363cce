"""The peers of migrator's copy: dd (what Cinder does), qemu-img
convert and cp; and the page caches dropped before every copy."""

import os
import subprocess
import time

from benchmarks import common
from migrator_api.common import fileutils

PEERS = ('dd', 'qemu-img', 'cp')


def drop_caches(enabled):
    if not enabled:
        return
    os.sync()
    with open('/proc/sys/vm/drop_caches', 'w') as f:
        f.write('3\n')


def peer_command(tool, src, dst):
    if tool == 'dd':
        return ['dd', 'if=%s' % src, 'of=%s' % dst, 'bs=1M',
                'iflag=direct', 'oflag=direct', 'conv=notrunc',
                'status=none']
    if tool == 'qemu-img':
        return ['qemu-img', 'convert', '-n', '-t', 'none', '-T', 'none',
                '-W', '-m', '16', '-f', 'raw', '-O', 'raw', src, dst]
    if tool == 'cp':
        return ['cp', '--sparse=always', src, dst]
    raise ValueError(tool)


def run_peer(tool, src, dst, size):
    """Run a peer, fsync its destination; (seconds, cpu seconds, peak
    RSS of the tool in bytes)."""
    cmd = peer_command(tool, src, dst)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors='replace').strip()
    proc.stderr.close()
    if proc.returncode != 0:
        raise common.BenchError('%s failed (%d): %s' % (
            ' '.join(cmd), proc.returncode, err))
    fileutils.fsync(dst)
    elapsed = time.monotonic() - started
    return {'seconds': elapsed, 'cpu_seconds': usage.ru_utime +
            usage.ru_stime, 'tool_rss_bytes': usage.ru_maxrss * 1024}
