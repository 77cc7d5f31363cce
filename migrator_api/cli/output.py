"""Printing for the migrator CLI: tables, sizes and the progress bar."""

import json
import re
import shutil

_UNITS = {'': 1, 'B': 1, 'K': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3,
          'T': 1024 ** 4}


def parse_size(text):
    """'300M', '1G', '4096' -> bytes."""
    match = re.fullmatch(r'\s*(\d+)\s*([BKMGT]?)(?:i?B)?\s*', text.upper())
    if not match:
        raise ValueError('%r is not a size (examples: 4096, 512K, 300M, 1G)'
                         % text)
    return int(match.group(1)) * _UNITS[match.group(2)]


def human_size(value):
    if value is None:
        return '-'
    value = float(value)
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if value < 1024 or unit == 'TiB':
            return ('%d %s' % (value, unit) if unit == 'B'
                    else '%.1f %s' % (value, unit))
        value /= 1024


def table(rows, columns, fmt='table', stream=None):
    if fmt == 'json':
        print(json.dumps(rows, indent=2, sort_keys=True), file=stream)
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells])
              for i, c in enumerate(columns)]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    print(line, file=stream)
    print('| ' + ' | '.join(c.ljust(w) for c, w in zip(columns, widths))
          + ' |', file=stream)
    print(line, file=stream)
    for row in cells:
        print('| ' + ' | '.join(c.ljust(w) for c, w in zip(row, widths))
              + ' |', file=stream)
    print(line, file=stream)


def record(obj, fmt='table', stream=None):
    if fmt == 'json':
        print(json.dumps(obj, indent=2, sort_keys=True), file=stream)
        return
    rows = [{'Field': k, 'Value': obj[k]} for k in sorted(obj)]
    table(rows, ['Field', 'Value'], stream=stream)


def _cell(value):
    if value is None:
        return ''
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def progress_line(mig, width=None, ahead=None):
    """One line: bar, percentage, bytes, rate, ETA and phase; for a
    queued migration, how many queued ones are ahead of it."""
    width = width or shutil.get_terminal_size((80, 20)).columns
    if mig.get('status') == 'queued':
        return 'queued: %s ahead, waiting for a free slot (%s)' % (
            '?' if ahead is None else ahead,
            human_size(mig.get('bytes_total')))
    pct = mig.get('percentage') or 0.0
    rate = mig.get('rate_bps')
    eta = mig.get('eta_seconds')
    tail = ' %5.1f%% %s/%s %s ETA %s [%s/%s]' % (
        pct, human_size(mig.get('bytes_done')),
        human_size(mig.get('bytes_total')),
        human_size(rate) + '/s' if rate else '-',
        '%ds' % eta if eta is not None else '-',
        mig.get('status'), mig.get('phase'))
    bar_width = max(10, min(40, width - len(tail) - 3))
    filled = int(bar_width * pct / 100)
    return '[' + '#' * filled + '.' * (bar_width - filled) + ']' + tail
