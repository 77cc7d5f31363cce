"""Read a subunit v2 stream on stdin; print 'N passed, N failed, N skipped'.

Exit status 1 when anything failed or was skipped, or nothing ran.
``--extra-failed N`` adds N failures from checks run outside stestr
(pep8).
"""

import argparse
import sys

import subunit
import testtools


class _Counter(testtools.StreamResult):

    def __init__(self):
        super().__init__()
        self.counts = {'success': 0, 'fail': 0, 'skip': 0}

    def status(self, test_id=None, test_status=None, **kwargs):
        if test_status in ('success', 'xfail'):
            self.counts['success'] += 1
        elif test_status in ('fail', 'uxsuccess'):
            self.counts['fail'] += 1
        elif test_status == 'skip':
            self.counts['skip'] += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--extra-failed', type=int, default=0)
    args = parser.parse_args()
    counter = _Counter()
    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer,
                                              non_subunit_name='stdout')
    counter.startTestRun()
    stream.run(counter)
    counter.stopTestRun()
    c = counter.counts
    c['fail'] += args.extra_failed
    print('%d passed, %d failed, %d skipped' % (c['success'], c['fail'],
                                                c['skip']))
    return 0 if (c['fail'] == 0 and c['skip'] == 0 and c['success']) else 1


if __name__ == '__main__':
    sys.exit(main())
