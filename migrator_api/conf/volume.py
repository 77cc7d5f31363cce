from oslo_config import cfg

GROUP = 'volume'

opts = [
    cfg.ListOpt('enabled_backends', default=[],
                help='Names of the backends this volume worker serves; '
                     'each name is a configuration section of its own '
                     '(see the [<backend name>] options).'),
    cfg.IntOpt('migration_progress_report_interval', default=5, min=1,
               help='Seconds between two progress reports of a running '
                    'copy: each logs the percentage, updates the '
                    'migration and emits a progress notification.'),
    cfg.IntOpt('volume_copy_bps_limit', default=0, min=0,
               help='Upper limit, in bytes per second, of the bandwidth '
                    'of one volume copy; 0 means unlimited.'),
    cfg.StrOpt('volume_dd_blocksize', default='1M',
               help='Block size of dd copies between block devices (dd '
                    'syntax: 512, 64K, 1M, 4M).'),
    cfg.IntOpt('file_copy_chunk_size', default=4 * 1024 * 1024,
               min=4096,
               help='Bytes one read/write of the in-process file copy '
                    'moves at a time: the size of the buffer of each of '
                    'its volume_copy_in_flight requests (bounds the '
                    'worker\'s memory).'),
    cfg.IntOpt('volume_copy_in_flight', default=8, min=1, max=64,
               help='Requests one volume copy keeps in flight: dd '
                    'processes running at once on segments of a copy '
                    'between block devices, or threads of the '
                    'in-process file copy, each with its own buffer of '
                    'file_copy_chunk_size bytes (so that copy needs '
                    'volume_copy_in_flight * file_copy_chunk_size bytes '
                    'of memory, whatever the size of the volume).  One '
                    'request at a time does not reach what a disk can '
                    'do.'),
    cfg.IntOpt('report_interval', default=10, min=1,
               help='Seconds between two heartbeats of an agent.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
