"""The compute agent's journal: atomic records, and the steps they name
(journal files written by earlier versions must still be read)."""

import json
import os

from migrator_compute import journal as journal_mod
from migrator_compute.journal import Phase
from migrator_compute.journal import Step
from tests import base


def _file(path):
    return {'driver_volume_type': 'file', 'data': {'path': path}}


class TestJournal(base.TestCase):

    def test_atomic_records(self):
        path = os.path.join(self.state_path, 'j')
        j = journal_mod.Journal(path)
        rec = j.new_record('att-1', 'inst', 'sda', _file('/srv/a'))
        j.save(rec)
        rec['migration'] = {'mode': 'live', 'step': None}
        j.set_step(rec, Step.START_OVERLAY, overlay='/o')
        # A write interrupted before its rename leaves only a temporary
        # file: the previous record stays valid and the stray is removed.
        with open(os.path.join(path, 'att-1.json.1.2.tmp'), 'w') as f:
            f.write('{"attachment_id": "att-1", "broken')
        records = j.records()
        self.assertEqual(1, len(records))
        self.assertEqual('start:overlay', records[0]['migration']['step'])
        self.assertEqual('/o', records[0]['migration']['overlay'])
        self.assertEqual(['att-1.json'], os.listdir(path))
        with open(os.path.join(path, 'att-1.json')) as f:
            self.assertEqual('start:overlay',
                             json.load(f)['migration']['history'][0][0])
        j.delete('att-1')
        self.assertIsNone(j.load('att-1'))
        self.assertRaises(ValueError, j.load, '../etc/passwd')

    def test_steps_are_read_back_from_files(self):
        j = journal_mod.Journal(os.path.join(self.state_path, 'j'))
        rec = j.new_record('att-1', 'inst', 'sda', _file('/srv/a'))
        rec['migration'] = {'mode': 'live', 'step': None}
        j.set_step(rec, 'fold:commit')          # a name is taken too
        mig = j.load('att-1')['migration']
        self.assertIs(Step.FOLD_COMMIT, Step.of(mig))
        self.assertIs(Phase.FOLD, Step.of(mig).phase)
        self.assertEqual([['fold:commit']], [h[:1] for h in mig['history']])
        self.assertRaises(ValueError, j.set_step, rec, 'fold:later')


class TestSteps(base.TestCase):

    #: Every step name earlier versions wrote into journal files.
    NAMES = (
        'start:overlay', 'start:lock', 'start:snapshot', 'frozen',
        'offline:lock', 'offline:locked', 'complete:overlay2',
        'complete:copy', 'complete:pivot', 'complete:cold-lock',
        'complete:cold-rebase', 'complete:offline', 'switched',
        'fold:commit', 'fold:pivot', 'fold:cold-lock', 'fold:cold-commit',
        'fold:config', 'fold:cleanup', 'finished', 'cancel:requested',
        'cancel:commit', 'cancel:pivot', 'cancel:cold-lock',
        'cancel:cold-commit', 'cancel:config', 'cancel:cleanup', 'cancelled')

    def test_names_are_stable(self):
        self.assertEqual(sorted(self.NAMES), sorted(s.value for s in Step))
        for name in self.NAMES:
            step = Step.of({'step': name})
            self.assertEqual(name, step)
            self.assertEqual(name.split(':')[0], step.phase)
            self.assertEqual('"%s"' % name, json.dumps(step))

    def test_of(self):
        self.assertIsNone(Step.of(None))
        self.assertIsNone(Step.of({'step': None}))
        self.assertIs(Step.FROZEN, Step.of({'step': Step.FROZEN}))
        e = self.assertRaises(journal_mod.UnknownStep, Step.of,
                              {'step': 'fold:later'})
        self.assertIn('fold:later', str(e))

    def test_frozen_steps(self):
        self.assertEqual({'frozen', 'offline:locked'},
                         set(journal_mod.FROZEN_STEPS))
