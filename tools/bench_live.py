#!/usr/bin/env python3
"""Benchmark of the live path of a volume migration (running guest).

migrator's path: ``migration_start`` (freeze the disk onto a local qcow2
overlay), the copy of the frozen source by the volume worker's own
copier (outside QEMU), ``migration_complete`` (shallow copy of the
overlay onto an overlay backed by the destination, pivot) and the
asynchronous fold-in (active commit into the destination, pivot).

Baseline: what Nova's ``swap_volume`` does, a full QEMU mirror of the
disk onto the pre-created destination (``blockCopy`` with REUSE_EXT,
wait READY, pivot, rewrite the persistent definition).

Everything runs against the real libvirtd and QEMU, on OS-less domains
whose vCPU halts (a one-sector boot disk: ``cli; hlt``), with file-backed
raw volumes full of pseudo-random data.  The guest writes through HMP
``qemu-io`` on its virtio-scsi disk.  Every migration is verified byte
for byte (the destination holds the source's content plus every guest
write) before any of its figures is used.

Figures: how long the libvirt calls that hold guest I/O take (freeze,
copy pivot, fold-in pivot), end-to-end time against the mirror, QEMU's
own CPU time (non-vCPU threads), guest write latency, and the fold-in
under continuous guest writes; PASS/FAIL per target; all of it as JSON
with ``--json``.  See doc/source/admin/live-benchmark.rst.  The parts
are in tools/benchmarks/live/.

Exit status: 0 every target met, 1 a target missed, 2 the benchmark
could not run or a migration lost or corrupted data.
"""

import os
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from benchmarks.live import cli  # noqa: E402

if __name__ == '__main__':
    sys.exit(cli.main())
