"""The parts of the two benchmarks, ``tools/bench_live.py`` (the live
migration path against a QEMU mirror) and ``tools/bench_copy.py`` (the
copy engine against dd, qemu-img and cp).

``common``: what both use (statistics, sizes, logging, targets, files,
pseudo-random data, CPU sampling, migrator's configuration); ``live``
and ``copy``: each benchmark's own parts.  Guests, libvirtd and loop
devices come from ``migrator_testing`` (shared with the tests).
"""
