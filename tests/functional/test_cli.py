"""The migrator CLI against the real API over HTTP (no-auth endpoint)."""

import contextlib
import io
import json

from migrator_api.cli import main as cli
from migrator_api.cmd import wsgi_server
from migrator_api.common import threads
from tests.functional.flows import base

MiB = base.MiB


class TestCLI(base.FlowTestCase):

    BPS_LIMIT = 8 * MiB

    def setUp(self):
        super().setUp()
        httpd = wsgi_server.make_server('127.0.0.1', 0, self.app.app, 16, 10)
        threads.spawn('test-wsgi', httpd.serve_forever)
        self.addCleanup(httpd.server_close)
        self.addCleanup(httpd.shutdown)
        self.endpoint = 'http://127.0.0.1:%d' % httpd.server_port

    def run_cli(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli.main(['--os-endpoint', self.endpoint] + list(argv))
            except SystemExit as exc:   # argparse: usage errors
                rc = exc.code
        return rc, out.getvalue(), err.getvalue()

    def run_json(self, *argv):
        rc, out, err = self.run_cli('-f', 'json', *argv)
        self.assertEqual(0, rc, err)
        return json.loads(out)

    def test_migrate_and_wait_shows_progress_and_succeeds(self):
        vol = self.run_json('volume', 'create', '--size', '16M',
                            '--backend', 'file1', '--name', 'v', '--wait')
        self.assertEqual(('available', 16 * MiB), (vol['status'],
                                                   vol['size']))
        expected = self.write_pattern(vol['location']['data']['path'],
                                      16 * MiB, seed=31)
        rc, out, err = self.run_cli('migrate', vol['id'], 'file2', '--wait',
                                    '--poll-interval', '0.3')
        self.assertEqual(0, rc, out + err)
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith(
            'Your migration request has been received.'), lines[0])
        self.assertTrue(lines[1].startswith('Migration ID: '), lines[1])
        bars = [line for line in lines if line.startswith('[')]
        self.assertGreaterEqual(len({b.split(']')[1].split('%')[0]
                                     for b in bars}), 3, bars)
        self.assertIn('succeeded', lines[-1])
        after = self.run_json('volume', 'show', vol['id'])
        self.assertEqual('file2', after['backend'])
        self.assert_same_bytes(expected, after['location']['data']['path'])
        listed = self.run_json('volume', 'list', '--migration-status',
                               'success')
        self.assertEqual([vol['id']], [v['id'] for v in listed])
        migs = self.run_json('migration', 'list', '--volume', vol['id'])
        self.assertEqual(['success'], [m['status'] for m in migs])
        shown = self.run_json('migration', 'show', migs[0]['id'])
        self.assertEqual(100.0, shown['percentage'])

    def test_wait_shows_the_place_in_the_queue(self):
        self.flags(max_concurrent_copies_per_worker=1, group='conductor')
        vols, expected = [], []
        for seed in range(3):
            vol = self.run_json('volume', 'create', '--size', '8M',
                                '--backend', 'file1', '--wait')
            expected.append(self.write_pattern(
                vol['location']['data']['path'], 8 * MiB, 33 + seed))
            vols.append(vol)
        for vol in vols[:2]:
            self.assertEqual(0, self.run_cli('migrate', vol['id'],
                                             'file2')[0])
        rc, out, err = self.run_cli('migrate', vols[2]['id'], 'file2',
                                    '--wait', '--poll-interval', '0.2')
        self.assertEqual(0, rc, out + err)
        # The first copies, the second waits before this one.
        self.assertIn('queued: 1 ahead, waiting for a free slot', out)
        self.assertIn('succeeded', out.splitlines()[-1])
        migs = self.run_json('migration', 'list', '--status', 'success')
        self.assertEqual(3, len(migs))
        self.assertEqual([], self.run_json('migration', 'list', '--status',
                                           'queued'))
        for vol, data in zip(vols, expected):
            after = self.run_json('volume', 'show', vol['id'])
            self.assertEqual('file2', after['backend'])
            self.assert_same_bytes(data, after['location']['data']['path'])

    def test_rejected_requests_say_why_and_fail(self):
        vol = self.run_json('volume', 'create', '--size', '1M',
                            '--backend', 'file1', '--wait')
        rc, out, err = self.run_cli('migrate', vol['id'], 'file1')
        self.assertEqual(1, rc)
        self.assertEqual('', out)
        self.assertIn('Your migration request failed to process: ', err)
        self.assertIn('already on backend file1', err)
        rc, _, err = self.run_cli('migrate', vol['id'], 'nowhere')
        self.assertEqual((1, True), (rc, 'nowhere' in err))
        rc, _, err = self.run_cli('volume', 'show', 'nope')
        self.assertEqual(1, rc)
        self.assertIn('Error: ', err)
        rc, _, err = self.run_cli('volume', 'create', '--size', '3x',
                                  '--backend', 'file1')
        self.assertEqual(2, rc)
        self.assertIn("'3x' is not a size", err)

    def test_cancel_with_wait_exits_non_zero(self):
        vol = self.run_json('volume', 'create', '--size', '40M',
                            '--backend', 'file1', '--wait')
        self.write_pattern(vol['location']['data']['path'], 40 * MiB, 32)
        rc, out, _ = self.run_cli('migrate', vol['id'], 'file2')
        mig_id = out.split('Migration ID: ')[1].strip()
        self.wait_copy_started(mig_id)
        rc, out, _ = self.run_cli('migration', 'cancel', mig_id, '--wait',
                                  '--poll-interval', '0.2')
        self.assertEqual(1, rc)
        self.assertIn('ended cancelled', out)

    def test_tables_and_deletes(self):
        rc, out, _ = self.run_cli('backend', 'list')
        self.assertEqual(0, rc)
        self.assertIn('file1', out)
        self.assertIn('| name', out)
        vol = self.run_json('volume', 'create', '--size', '1M',
                            '--backend', 'file2', '--wait')
        rc, out, _ = self.run_cli('volume', 'delete', vol['id'])
        self.assertEqual(0, rc)
        self.system.wait_for(
            lambda: self.run_json('volume', 'list') == [], 'deleted')
        rc, out, _ = self.run_cli('service', 'list')
        self.assertIn('migrator-volume', out)
