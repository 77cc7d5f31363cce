"""The load scenario: volumes made and filled, a few single migrations
for the baseline, then many migrations at once while clients poll the
status endpoint and a watcher counts the copies running; at the end
every migrated volume is compared byte for byte."""

import concurrent.futures
import random
import threading
import time

import requests

from benchmarks import common

#: Phases of a migration whose copy is running.
COPYING = ('copying',)
ENDED = ('success', 'error', 'cancelled')


class Api:
    """The REST API over one requests session per thread."""

    def __init__(self, endpoint, headers):
        self.endpoint, self.headers = endpoint, dict(
            headers, Accept='application/json')
        self._local = threading.local()

    def _session(self):
        if not hasattr(self._local, 's'):
            self._local.s = requests.Session()
        return self._local.s

    def call(self, method, path, body=None, ok=(200, 201, 202, 204)):
        r = self._session().request(method, self.endpoint + path, json=body,
                                    headers=self.headers, timeout=120)
        if r.status_code not in ok:
            raise common.BenchError('%s %s: %d %s' % (method, path,
                                                      r.status_code, r.text))
        return r.json() if r.content else None

    def timed_get(self, path):
        t0 = time.perf_counter()
        r = self._session().get(self.endpoint + path, headers=self.headers,
                                timeout=120)
        elapsed = time.perf_counter() - t0
        return r.status_code, elapsed


def pattern(seed, size):
    return random.Random(seed).randbytes(size)


def path_of(volume):
    data = volume['location']['data']
    return data.get('path') or data['device_path']


def wait_volume(api, volume_id, status, timeout=600):
    deadline = time.monotonic() + timeout
    while True:
        vol = api.call('GET', '/v1/volumes/%s' % volume_id)['volume']
        if vol['status'] == status:
            return vol
        if vol['status'] == 'error' or time.monotonic() > deadline:
            raise common.BenchError('volume %s: %s' % (volume_id,
                                                       vol['status']))
        time.sleep(0.2)


def make_volumes(api, count, size, backends, workers=8):
    """``count`` volumes of ``size`` bytes spread over ``backends``, each
    filled with the pattern of its index: [(volume, seed)]."""
    def one(i):
        vol = api.call('POST', '/v1/volumes', {'volume': {
            'size': size, 'backend': backends[i % len(backends)],
            'name': 'load-%03d' % i}})['volume']
        vol = wait_volume(api, vol['id'], 'available')
        with open(path_of(vol), 'r+b') as f:
            f.write(pattern(i, size))
        return vol, i
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


def migrate(api, volume_id, backend):
    return api.call('POST', '/v1/migrations', {'migration': {
        'volume_id': volume_id, 'backend': backend}})['migration']


def wait_migrations(api, ids, timeout, watch=None):
    """Until every migration of ``ids`` ended: {id: migration}.  One
    listing per round; ``watch(listing)`` sees each."""
    ids = set(ids)
    deadline = time.monotonic() + timeout
    while True:
        listing = api.call('GET', '/v1/migrations?limit=1000')['migrations']
        if watch:
            watch(listing)
        mine = {m['id']: m for m in listing if m['id'] in ids}
        if len(mine) == len(ids) and all(m['status'] in ENDED
                                         for m in mine.values()):
            return mine
        if time.monotonic() > deadline:
            raise common.BenchError('migrations still running after %d s'
                                    % timeout)
        time.sleep(0.2)


def baseline(api, volumes, pairs, count):
    """Migrate ``count`` volumes one at a time: their wall times."""
    times = []
    for (vol, _seed), i in zip(volumes, range(count)):
        t0 = time.monotonic()
        mig = migrate(api, vol['id'], _dest(vol, pairs))
        done = wait_migrations(api, [mig['id']], 600)[mig['id']]
        if done['status'] != 'success':
            raise common.BenchError('baseline migration failed: %s' % done)
        times.append(time.monotonic() - t0)
    return times


def _dest(volume, pairs):
    return dict(pairs)[volume['backend']]


class Pollers:
    """``clients`` threads polling the status endpoint (a migration's
    show, and the list of migrations, in turn) until stopped."""

    def __init__(self, api, clients, migration_ids):
        self.api, self.ids = api, migration_ids
        self.latencies, self.errors = [], []
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,),
                                         daemon=True)
                        for i in range(clients)]

    def _run(self, index):
        rng = random.Random(index)
        while not self._stop.is_set():
            if rng.random() < 0.5:
                path = '/v1/migrations/%s' % rng.choice(self.ids)
            else:
                path = '/v1/migrations?limit=50'
            try:
                status, elapsed = self.api.timed_get(path)
            except requests.RequestException as e:
                self.errors.append(str(e))
                continue
            if status != 200:
                self.errors.append('%s: %d' % (path, status))
            self.latencies.append(elapsed)

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(60)


class Concurrency:
    """The most copies seen running at once, overall and per backend."""

    def __init__(self):
        self.most = 0
        self.by_backend = {}
        self.queued_seen = 0

    def __call__(self, listing):
        running = [m for m in listing if m['phase'] in COPYING and
                   m['status'] not in ENDED]
        self.most = max(self.most, len(running))
        counts = {}
        for m in running:
            for b in (m['source_backend'], m['dest_backend']):
                counts[b] = counts.get(b, 0) + 1
        for b, n in counts.items():
            self.by_backend[b] = max(self.by_backend.get(b, 0), n)
        self.queued_seen = max(self.queued_seen, sum(
            m['status'] == 'queued' for m in listing))


def load(api, volumes, pairs, count, clients):
    """``count`` migrations at once with ``clients`` pollers: (ended
    migrations, wall time, pollers, concurrency)."""
    chosen = volumes[-count:]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        migs = list(pool.map(lambda vs: migrate(api, vs[0]['id'], _dest(
            vs[0], pairs)), chosen))
    pollers = Pollers(api, clients, [m['id'] for m in migs])
    pollers.start()
    watch = Concurrency()
    try:
        ended = wait_migrations(api, [m['id'] for m in migs], 1800, watch)
    finally:
        pollers.stop()
    return ended, time.monotonic() - t0, pollers, watch, chosen


def verify(api, chosen, size):
    """Volumes whose bytes differ from their pattern (or that did not
    move): [(volume id, what is wrong)]."""
    bad = []
    for vol, seed in chosen:
        now = api.call('GET', '/v1/volumes/%s' % vol['id'])['volume']
        if now['backend'] == vol['backend']:
            bad.append((vol['id'], 'not moved'))
            continue
        with open(path_of(now), 'rb') as f:
            if f.read(size) != pattern(seed, size):
                bad.append((vol['id'], 'bytes differ'))
    return bad
