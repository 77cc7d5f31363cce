#!/usr/bin/env python3
"""Benchmark of the volume copy engine against its peers, in one run.

Volumes (under ``--dir``, removed at the end):

- ``dense``: a file of ``--dense-size`` (2 GiB) pseudo-random bytes;
- ``sparse``: a file of ``--sparse-size`` (8 GiB) with about
  ``--sparse-fraction`` (10%) of it allocated in scattered extents of
  pseudo-random bytes, holes at both ends;
- ``block``: a pair of loop devices of ``--block-size`` (2 GiB) over
  files of the same disk (``losetup --direct-io=on``, so that they
  behave as disks, without a second page cache), the source filled with
  the dense data; before every copy the destination is discarded and
  garbage is written at scattered places, so that a copier which skips
  a range is caught.

Contenders, each timed on every volume in the same run, in an order
that rotates and reverses from one round to the next:

- ``migrator``: the real copy path of a migration, in a worker process
  of its own (so that its peak RSS is its own): the volume worker's
  configuration file, backends loaded from it (``file`` backends, or
  ``block`` backends over the loop devices), the destination volume
  created by its backend, and ``CopyJob`` running the copier that
  ``make_copier`` picks (threaded O_DIRECT file I/O, or parallel dd
  between block devices), with its progress poller reporting every
  second (``migration_progress_report_interval = 1``) to a recording
  conductor stand-in and real notifications (``messagingv2`` over the
  in-process ``fake://`` transport);
- ``migrator-nopoll``: the same without progress reports (the backends'
  ``migration_progress_report = false``), to measure what polling costs;
- ``dd``: ``dd bs=1M iflag=direct oflag=direct conv=notrunc``, what
  Cinder does;
- ``qemu-img``: ``qemu-img convert -n -t none -T none -W -m 16``, the
  sparse-aware peer with 16 requests in flight;
- ``cp``: ``cp --sparse=always``.

Every copy's time includes making its destination durable: migrator's
copier fsyncs it itself, the peers' destination is fsynced right after
they exit.  Page caches are dropped (``sync; echo 3 >
/proc/sys/vm/drop_caches``) before every copy unless
``--no-drop-caches``.  Every destination is then read in full and
compared with the source (SHA-1 of each 4 MiB piece against the
source's, taken once; ranges where both are holes read as zeroes by
definition and are not read); a mismatch ends the benchmark (exit 2).

Then the throttle: ``volume_copy_bps_limit = --throttle-limit``, the
migrator copy of ``--throttle-seconds`` worth of data on the file I/O
path (dense file) and on the dd path (block devices); the rate must be
within 10% of the limit.

Figures (medians over ``--runs`` rounds): MB/s, ratios against dd,
qemu-img and the best peer, the worker's peak RSS (VmHWM), the cost of
progress polling, the throttle's accuracy; PASS/FAIL per target of the
copy engine; all of it as JSON with ``--json``.  See
doc/source/admin/copy-benchmark.rst; the parts are in
tools/benchmarks/copy/.

Exit status: 0 every target met, 1 a target missed, 2 the benchmark
could not run or a copy was wrong.
"""

import os
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TOOLS)
for _path in (REPO, TOOLS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from benchmarks.copy import cli  # noqa: E402

if __name__ == '__main__':
    sys.exit(cli.main(doc=__doc__))
