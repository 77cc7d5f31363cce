#!/usr/bin/env python3
"""Load benchmark: many migrations at once while clients poll the status.

On the embedded default (``--target embedded``: migrator-all, SQLite,
file backends file1 and file2) or on a multi-host deployment of its own
(``--target deployed``: tools/deploy.sh, two volume hosts, MariaDB,
RabbitMQ, keystone), it:

- makes ``--volumes`` (200) volumes of ``--size`` (64 MiB), each filled
  with a pattern of its own;
- migrates ``--baseline`` (3) of them one at a time, for the time of a
  single migration;
- starts ``--migrations`` (50) migrations at once (in the deployed mode
  both ways between the two volume hosts, so that both workers copy),
  while ``--clients`` (20) clients poll the status endpoint (a
  migration's show and the list of migrations, in turn) and a watcher
  counts the copies running at once and the migrations queued;
- compares every migrated volume byte for byte with its pattern.

It prints the status endpoint's latency (p50, p99, max), the most
copies seen running at once (overall and per backend: compare with the
configured limits), the total time against the single migrations' time
one after another, and its targets with PASS or FAIL: p99 under 50 ms,
no failed migration, every migrated volume verified.  Exit status 0 when
all are met, 1 when one is missed, 2 when it could not run.

Example (quick): tools/bench_load.py --volumes 40 --migrations 20
    --clients 10 --size 16M
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchmarks import common  # noqa: E402
from benchmarks.load import cli  # noqa: E402


if __name__ == '__main__':
    try:
        sys.exit(cli.main(sys.argv[1:], __doc__))
    except common.BenchError as e:
        common.log('cannot run: %s', e)
        sys.exit(2)
