"""``down``: stop every process the deployment started (by recorded pid,
then whatever is left in its namespaces), detach its loop devices,
remove its namespaces and bridge, its vhost, database and keystone;
stop RabbitMQ and the database server when ``up`` started them.  The logs stay
(``state/logs``)."""

import os
import shutil
import subprocess

from migrator_testing import daemons
from migrator_testing import hosts as host_tools
from migrator_testing import services

from deploy import procs
from deploy import steps


def _stop_recorded(layout, record):
    table = record.get('procs', {})
    agents = [(e['pid'], e['marker']) for k, e in table.items()
              if not k.endswith('/libvirtd')]
    if agents:
        steps.step('stopping %d services' % len(agents))
        procs.stop(agents)
    daemons = [(k.split('/')[0], e) for k, e in table.items()
               if k.endswith('/libvirtd')]
    for name, entry in daemons:
        if procs.alive(entry['pid'], entry['marker']):
            steps.step('%s: stopping its guests and libvirtd' % name)
            procs.destroy_domains(layout.libvirt_uri(name))
    procs.stop([(e['pid'], e['marker']) for _n, e in daemons])


def _drop_shared(record):
    urls = record.get('urls', {})
    if 'rabbitmq' in urls and steps._running('rabbitmq'):
        services.drop_vhost(urls['rabbitmq'])
    for name in steps.DATABASES:
        if name in urls and steps._running(name):
            services.drop_database(urls[name])


def _stop_server(name):
    if name == 'rabbitmq':
        argv = ['rabbitmqctl', 'stop']
        gone = ('beam.smp', 'epmd')
    elif name == 'postgresql':
        version, cluster = daemons.pg_cluster()
        argv = ['pg_ctlcluster', version, cluster, 'stop']
        gone = ('postgres',)
    else:
        argv = ['mariadb-admin', '-u', 'root', 'shutdown']
        gone = ('mariadbd', 'mysqld_safe')
    steps.step('stopping %s (this deployment started it)' % name)
    subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                   timeout=120)
    procs.stop([(pid, None) for program in gone
                for pid in host_tools.pids_of(program)])


def down(layout, keep_services=False):
    record = layout.load()
    if not record:
        steps.step('no deployment in %s' % layout.state)
        layout.network.remove()
        return 0
    _stop_recorded(layout, record)
    if record.get('keystone'):
        steps.step('stopping keystone')
        steps.keystone_server(layout, layout.secrets(record)).stop()
    steps.step('removing the namespaces and bridge %s'
               % layout.network.bridge)
    leftovers = _namespace_pids(layout)
    layout.network.remove()
    procs.stop([(pid, None) for pid in leftovers], timeout=10)
    for device, backing in record.get('loops', []):
        host_tools.detach_loop(device, backing)
    _drop_shared(record)
    if not keep_services:
        for name in record.get('started_services', []):
            _stop_server(name)
    for entry in os.listdir(layout.state):
        if entry != 'logs':
            path = os.path.join(layout.state, entry)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
    steps.step('the deployment is down (logs kept in %s)' % layout.logs)
    return 0


def _namespace_pids(layout):
    pids = []
    for name in layout.hosts():
        out = subprocess.run(['ip', 'netns', 'pids',
                              layout.host(name).namespace],
                             capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    return pids
