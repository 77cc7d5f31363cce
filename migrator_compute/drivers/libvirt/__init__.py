"""The libvirt driver: live volume migration with QEMU block jobs.

host.py      the connection to libvirtd and the event loop thread
guest.py     domain and disk XML helpers
blockjob.py  block jobs: start, wait for READY, pivot, abort
images.py    qemu-img helpers for the overlays
live.py      flows of a running domain
stopped.py   flows of a shut-off domain (lock) and offline finishes
recovery.py  dispatch and crash recovery
attach.py    attach, detach, the shared-source check
driver.py    the public calls
"""
