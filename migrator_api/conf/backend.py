"""Options of one storage backend.

Each name in ``[volume] enabled_backends`` is a section of its own
holding these options, as Cinder does with ``enabled_backends``.
"""

from oslo_config import cfg

# The group name shown in the sample file; real sections are named
# after each backend.
SAMPLE_GROUP = 'backend_name'

opts = [
    cfg.StrOpt('backend_type', default='file',
               choices=[('file', 'a directory of raw image files (stands '
                         'for NFS-style backends)'),
                        ('block', 'a pool of raw block devices')],
               help='Kind of storage this backend manages.'),
    cfg.StrOpt('file_path',
               help='file backends: the directory holding the volumes, '
                    'one sparse raw file volume-<id> each (default: '
                    '$state_path/backends/<backend>).'),
    cfg.ListOpt('block_devices', default=[],
                help='block backends: the block devices of the pool, each '
                     'holding at most one volume.'),
    cfg.StrOpt('block_state_file',
               help='block backends: the file recording which device '
                    'holds which volume (default: '
                    '$state_path/<backend>-devices.json).'),
    cfg.StrOpt('volume_clear', default='zero',
               choices=[('zero', 'zero the device (BLKZEROOUT) before it '
                         'is given to another volume'),
                        ('none', 'leave the old data on the device (only '
                         'where the devices are wiped otherwise)')],
               help='block backends: what happens to the data of a '
                    'deleted volume.  Without zeroing, the next volume '
                    'created on that device reads the previous owner\'s '
                    'data.'),
    cfg.BoolOpt('migration_progress_report', default=True,
                help='Whether copies to or from this backend report '
                     'progress (the migration_progress_report '
                     'capability).'),
]


def register_backend_opts(conf, name):
    """Register the backend options in section ``name``; return it."""
    conf.register_opts(opts, group=name)
    return conf[name]


def list_opts():
    return {SAMPLE_GROUP: opts}
