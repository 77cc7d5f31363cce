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
    cfg.IntOpt('volume_copy_mark_interval', default=128, min=1,
               help='MiB of a volume copy between two records of its '
                    'resume watermark (the offset below which every '
                    'byte is durably on the destination; each record '
                    'costs one fdatasync of the destination).  A copy '
                    'interrupted by a restart of the worker, or whose dd '
                    'was killed, resumes from there: it copies at most '
                    'this much plus its requests in flight twice.'),
    cfg.IntOpt('volume_copy_mark_seconds', default=5, min=0,
               help='Seconds between two records of the resume '
                    'watermark of a copy that moves slowly (throttled); '
                    '0: only every volume_copy_mark_interval MiB.'),
    cfg.IntOpt('volume_copy_retries', default=3, min=0,
               help='Times a copy whose dd process was killed, or whose '
                    'connection to another host\'s volume was lost, is '
                    'retried from its resume watermark before it fails.'),
    cfg.IntOpt('report_interval', default=10, min=1,
               help='Seconds between two heartbeats of an agent.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
