"""A local multi-host deployment of migrator (``tools/deploy.sh``).

Hosts are network namespaces on a bridge (migrator_testing.netns), each
with its own address, config file and ``[DEFAULT] host``:

    ctl1   migrator-api (uWSGI) and migrator-conductor
    ctl2   migrator-conductor
    vol1   migrator-volume: file backend vol1-file, block backend
           vol1-block on loop devices
    vol2   migrator-volume: file backend vol2-file
    cmp1   migrator-compute and a libvirtd of its own
    cmp2   migrator-compute and a libvirtd of its own

The services every host shares -- RabbitMQ, MariaDB
(migrator_testing.services) and keystone (migrator_testing.keystone) --
run in the root namespace and listen on the bridge address.  The NBD
data path between hosts uses per-host x509 credentials from one CA
(migrator_testing.pki).

Modules: ``layout`` (hosts, addresses, files, config files), ``procs``
(the recorded processes, per-host libvirtd), ``steps`` (what ``up``,
``status`` and ``down`` do), ``__main__`` (the command line).
"""
