from oslo_config import cfg

GROUP = 'compute'

opts = [
    cfg.StrOpt('driver', default='libvirt',
               choices=[('libvirt', 'live block jobs through '
                         'libvirt-python'),
                        ('offline', 'any hypervisor: a migration only '
                         'starts while the instance is shut down')],
               help='Compute driver of this agent.'),
    cfg.StrOpt('libvirt_uri', default='qemu:///system',
               help='libvirt connection URI.'),
    cfg.StrOpt('overlay_path', default='$state_path/overlays',
               help='Directory for the local qcow2 overlays that take '
                    'the guest\'s writes during a live migration.'),
    cfg.StrOpt('journal_path', default='$state_path/compute-journal',
               help='Directory of the agent\'s crash-recovery journal.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
