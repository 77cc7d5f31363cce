from oslo_config import cfg

GROUP = 'compute'

opts = [
    cfg.StrOpt('driver', default='libvirt',
               help='Compute driver of this agent: its name among the '
                    '``migrator.compute.drivers`` entry points.  '
                    '``libvirt``: live block jobs through libvirt-python '
                    '(a running instance keeps running; a shut-off one is '
                    'locked).  ``libvirt-offline``: a hypervisor without '
                    'live block jobs; a migration only starts while the '
                    'instance is shut off, and running ones are refused.'),
    cfg.StrOpt('libvirt_uri', default='qemu:///system',
               help='libvirt connection URI.'),
    cfg.StrOpt('overlay_path', default='$state_path/overlays',
               help='Directory for the local qcow2 overlays that take '
                    'the guest\'s writes during a live migration.'),
    cfg.StrOpt('journal_path', default='$state_path/compute-journal',
               help='Directory of the agent\'s crash-recovery journal.'),
    cfg.IntOpt('block_job_timeout', default=3600, min=1,
               help='Seconds a live block job (shallow copy onto the '
                    'destination, fold-in, rollback) may take to become '
                    'ready for its pivot before the step is reported as '
                    'failed.  The job is left running and a later '
                    'recovery picks it up.'),
    cfg.IntOpt('libvirt_reconnect_timeout', default=120, min=1,
               help='Seconds to keep trying to reconnect to libvirtd '
                    'after the connection was lost (for example while '
                    'libvirtd restarts).'),
    cfg.IntOpt('device_detach_timeout', default=30, min=1,
               help='Seconds to wait for the guest to release a '
                    'hot-unplugged disk.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
