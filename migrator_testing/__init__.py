"""What the tests, the demo and the benchmarks share: OS-less QEMU
guests and their I/O, libvirtd control, loop devices.

Not used by the services: nothing in migrator_api, migrator_volume or
migrator_compute imports it.
"""
