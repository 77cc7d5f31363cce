"""The libvirt drivers: volume migration with QEMU block jobs, or
with the lock alone for shut-off domains.

driver.py    LibvirtDriver, LibvirtOfflineDriver: the ComputeDriver
             calls, dispatching to the objects below
context.py   Context: the shared state every flow receives (libvirt
             Host, Journal, locks, overlay paths, timings, fault hook)
flows.py     Flows: which flow takes each step; settles a half-done
             switch, rolls back a failed start
live.py      LiveFlow: running domain (freeze, switch, live commit)
offline.py   OfflineFlow: domain shut off at start (lock, switch)
cold.py      ColdFlow: live migration whose domain went down (qemu-img)
ending.py    Endings: the one fold-in and the one rollback routine
lock.py      DomainLock: the lock on the persistent definition
recovery.py  Recovery: crash recovery from the journal
attach.py    Attachments: attach, detach, the shared-source check
workers.py   Workers: the background threads of the asynchronous ends
host.py      the connection to libvirtd and the event loop thread
guest.py     domain and disk XML helpers
blockjob.py  block jobs: start, wait for READY, pivot, abort
images.py    qemu-img helpers for the overlays
"""
