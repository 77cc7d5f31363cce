"""The live benchmark's parts (entry point: tools/bench_live.py).

``session``: the run's libvirt connection, host lock, domains, disks and
guest I/O; ``prepare``: setup and teardown; ``holds`` and ``events``:
timing of the libvirt calls that hold guest I/O and QEMU's job events;
``copier``: the copy in a process of its own; ``chain``: the volumes
and their verification; ``runners``: one migration of each approach;
``phases``: the measurements; ``report``: figures, tables, targets;
``cli``: options, the run, the JSON.
"""
