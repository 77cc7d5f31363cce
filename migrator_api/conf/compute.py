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
    cfg.FloatOpt('overlay_reserve_ratio', default=0.1, min=0,
                 help='Before a running guest is frozen, the filesystem of '
                      '``overlay_path`` must have free at least this '
                      'fraction of the volume\'s size (what the guest may '
                      'write while the volume is copied) plus '
                      '``overlay_reserve_min_mb``; otherwise the migration '
                      'is refused and nothing is frozen.  0 with '
                      '``overlay_reserve_min_mb = 0`` turns the check off.'),
    cfg.IntOpt('overlay_reserve_min_mb', default=64, min=0,
               help='Free space (MiB) the filesystem of ``overlay_path`` '
                    'must keep beyond the ``overlay_reserve_ratio`` share '
                    'of the volume before a running guest is frozen.'),
    cfg.IntOpt('overlay_max_mb', default=0, min=0,
               help='Cap (MiB) of the space one overlay may take on disk '
                    'while a guest is frozen.  Past it the agent rolls '
                    'the guest back onto its source (every write it '
                    'acknowledged is kept) and the migration ends in '
                    '``error``.  0: no fixed cap.'),
    cfg.FloatOpt('overlay_max_ratio', default=0, min=0,
                 help='Cap of one overlay as a fraction of its volume\'s '
                      'size (see ``overlay_max_mb``; when both are set the '
                      'smaller cap applies).  0: no cap by ratio.'),
    cfg.FloatOpt('overlay_report_interval', default=5, min=0.1,
                 help='Seconds between two measures of a frozen guest\'s '
                      'overlay: its size is reported to the conductor '
                      '(the migration\'s ``overlay_bytes``) and checked '
                      'against the cap.'),
    cfg.IntOpt('device_detach_timeout', default=30, min=1,
               help='Seconds to wait for the guest to release a '
                    'hot-unplugged disk.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
