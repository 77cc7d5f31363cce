"""The copy benchmark's parts (entry point and overview:
tools/bench_copy.py).

``volumes``: the dense, sparse and block volumes; ``verify``: the
sources' digests and the check of every destination; ``peers``: dd,
qemu-img and cp; ``worker``: migrator's copy in a worker process of its
own; ``bench``: the rounds and the throttled copies; ``report``:
medians, ratios, targets; ``cli``: options, the run, the JSON.
"""

import sys

from benchmarks import common


def log(msg, *args):
    """This benchmark logs on standard output."""
    common.log(msg, *args, out=sys.stdout)
