import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { DnsCache, LAST_GET_TTL_MS, type CacheQuestion, type WatchSpec } from './dns-cache.ts';

/** A server stand-in: answers `value` (a counter per fetch), and blocking reads the test releases. */
function setup(opts: { maxAgeMs: number; maxEntries?: number; index?: number }) {
  const clock = new ManualClock();
  const server = { up: true, value: 'v1', fetches: 0, index: opts.index ?? 10 };
  const watches: { spec: WatchSpec; index: number; resolve: (i: number) => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];
  const cache = new DnsCache<string>({
    clock, maxAgeMs: opts.maxAgeMs, maxEntries: opts.maxEntries, logger: silentLogger(), random: () => 0,
    fetch: async (q) => {
      server.fetches++;
      if (!server.up) throw new Error('No known Consul servers');
      return { value: `${server.value}:${q.key}`, index: server.index };
    },
    watch: (spec, index, signal) => new Promise((resolve, reject) => {
      watches.push({ spec, index, resolve, reject, signal });
    }),
  });
  return { clock, server, watches, cache };
}

const simple = (key: string): CacheQuestion => ({ key });
const refreshed = (key: string, path = '/v1/health/service/web'): CacheQuestion => ({ key, watch: { key: path, path: `${path}?stale`, headers: {} } });
const tick = () => new Promise((r) => setImmediate(r));

test('simple entries: served from the cache within cache_max_age, fetched again after it', async () => {
  const { clock, server, cache } = setup({ maxAgeMs: 5_000 });
  assert.equal(await cache.get(simple('q')), 'v1:q');
  server.value = 'v2';
  clock.advance(5_000);
  assert.equal(await cache.get(simple('q')), 'v1:q', 'not older than cache_max_age yet');
  assert.equal(server.fetches, 1);
  clock.advance(1);
  assert.equal(await cache.get(simple('q')), 'v2:q', 'older: fetched again');
  assert.equal(server.fetches, 2);
  server.up = false;
  assert.equal(await cache.get(simple('q')), 'v2:q', 'fresh again, even with the servers gone');
  clock.advance(5_001);
  await assert.rejects(cache.get(simple('q')), /No known Consul servers/, 'too old and no server: the lookup fails');
});

test('simple entries without cache_max_age are never fetched again while in use', async () => {
  const { clock, server, cache } = setup({ maxAgeMs: 0 });
  await cache.get(simple('q'));
  server.value = 'v2';
  for (let i = 0; i < 5; i++) {
    clock.advance(LAST_GET_TTL_MS);
    assert.equal(await cache.get(simple('q')), 'v1:q');
  }
  assert.equal(server.fetches, 1);
  clock.advance(LAST_GET_TTL_MS + 1);
  assert.equal(await cache.get(simple('q')), 'v2:q', 'unused for 3 days: dropped, fetched anew');
});

test('refreshed entries: one blocking read per path from the fetched index; a change re-fetches every answer on it', async () => {
  const { server, watches, cache } = setup({ maxAgeMs: 5_000, index: 42 });
  assert.equal(await cache.get(refreshed('web A')), 'v1:web A');
  assert.equal(await cache.get(refreshed('web SRV')), 'v1:web SRV');
  assert.equal(watches.length, 1, 'the two questions share one watch');
  assert.equal(watches[0].index, 42);
  server.value = 'v2';
  watches[0].resolve(43);
  await tick();
  await tick();
  assert.equal(server.fetches, 4);
  assert.equal(await cache.get(refreshed('web A')), 'v2:web A');
  assert.equal(await cache.get(refreshed('web SRV')), 'v2:web SRV');
  assert.equal(watches.length, 2);
  assert.equal(watches[1].index, 43, 'blocks past the new index');
  watches[1].resolve(43);
  await tick();
  assert.equal(server.fetches, 4, 'a timed-out read with the same index fetches nothing');
  cache.close();
});

test('refreshed entries are served while the refresh is in contact, and until cache_max_age after it lost contact', async () => {
  const { clock, server, watches, cache } = setup({ maxAgeMs: 5_000 });
  await cache.get(refreshed('web A'));
  clock.advance(60_000);
  assert.equal(await cache.get(refreshed('web A')), 'v1:web A', 'in contact: age 0, however long ago it was fetched');
  assert.equal(server.fetches, 1);
  server.up = false;
  server.value = 'v2';
  watches[0].reject(new Error('connection refused'));
  await tick();
  clock.advance(5_000);
  assert.equal(await cache.get(refreshed('web A')), 'v1:web A', 'lost contact 5 s ago: still served');
  clock.advance(1);
  await assert.rejects(cache.get(refreshed('web A')), /No known Consul servers/, 'past cache_max_age: fetched again, and that fails');
  server.up = true;
  assert.equal(await cache.get(refreshed('web A')), 'v2:web A', 'a server answers again');
  assert.equal(await cache.get(refreshed('web A')), 'v2:web A', 'and the fresh answer counts from its fetch');
  assert.equal(server.fetches, 3);
  cache.close();
});

test('without cache_max_age a refreshed entry is served however long contact is lost', async () => {
  const { clock, server, watches, cache } = setup({ maxAgeMs: 0 });
  await cache.get(refreshed('web A'));
  server.up = false;
  watches[0].reject(new Error('connection refused'));
  await tick();
  clock.advance(LAST_GET_TTL_MS);
  assert.equal(await cache.get(refreshed('web A')), 'v1:web A');
  cache.close();
});

test('bounded: the least recently used entry goes first, and its watch stops with its last question', async () => {
  const { server, watches, cache } = setup({ maxAgeMs: 0, maxEntries: 2 });
  await cache.get(refreshed('a', '/v1/health/service/a'));
  await cache.get(refreshed('b', '/v1/health/service/b'));
  await cache.get(refreshed('a', '/v1/health/service/a'));
  await cache.get(simple('c'));
  assert.equal(cache.size, 2);
  assert.equal(cache.watching, 1);
  assert.equal(watches.find((w) => w.spec.path.includes('/b'))?.signal.aborted, true, 'b was least recently used');
  assert.equal(watches.find((w) => w.spec.path.includes('/a'))?.signal.aborted, false);
  assert.equal(server.fetches, 3);
  await cache.get(refreshed('a', '/v1/health/service/a'));
  assert.equal(server.fetches, 3, 'a is still cached');
  cache.close();
  assert.equal(watches.every((w) => w.signal.aborted), true);
});

test('a blocking read without an index counts as a failure, so the refresh backs off instead of spinning', async () => {
  const { clock, watches, cache } = setup({ maxAgeMs: 0 });
  await cache.get(refreshed('web A'));
  for (let i = 0; i < 4; i++) {
    watches[watches.length - 1].resolve(0);
    await tick();
  }
  assert.equal(watches.length, 4, 'three quick retries, then a back-off timer');
  clock.advance(4_000);
  await tick();
  assert.equal(watches.length, 5, 'retried once the back-off passed');
  cache.close();
});

test('concurrent misses for one question fetch once', async () => {
  const { server, cache } = setup({ maxAgeMs: 0 });
  const got = await Promise.all([cache.get(simple('q')), cache.get(simple('q')), cache.get(simple('q'))]);
  assert.deepEqual(got, ['v1:q', 'v1:q', 'v1:q']);
  assert.equal(server.fetches, 1);
});

test('an answer fetched older than its path\'s watch (a lagging server answered it) is re-fetched when that read next returns, change or not', async () => {
  const { server, watches, cache } = setup({ maxAgeMs: 0, index: 42 });
  assert.equal(await cache.get(refreshed('web A')), 'v1:web A');
  server.value = 'v2';
  watches[0].resolve(50);
  await tick();
  await tick();
  assert.equal(await cache.get(refreshed('web A')), 'v2:web A');
  assert.equal(watches[1].index, 50);
  // Another server, still at 45, answers a new question on the same path: from before the change.
  server.value = 'v1';
  server.index = 45;
  assert.equal(await cache.get(refreshed('web SRV')), 'v1:web SRV');
  server.value = 'v2';
  const before = server.fetches;
  // The blocking read times out with nothing new since 50.
  watches[1].resolve(50);
  await tick();
  await tick();
  assert.ok(server.fetches > before, 'the older answer is fetched again');
  assert.equal(await cache.get(refreshed('web SRV')), 'v2:web SRV');
  cache.close();
});

test('a change seen while a fetch of the answer is running fetches it again after that one (which may predate the change)', async () => {
  const clock = new ManualClock();
  const fetches: { resolve: (v: string) => void }[] = [];
  const watches: ((i: number) => void)[] = [];
  const cache = new DnsCache<string>({
    clock, maxAgeMs: 1_000, logger: silentLogger(), random: () => 0,
    fetch: () => new Promise((resolve) => fetches.push({ resolve: (value) => resolve({ value, index: 10 }) })),
    watch: (_spec, _index, signal) => new Promise((resolve) => {
      watches.push(resolve);
      signal.addEventListener('abort', () => resolve(0), { once: true });
    }),
  });
  const first = cache.get(refreshed('web A'));
  fetches[0].resolve('v1');
  assert.equal(await first, 'v1');
  // The watch loses contact long enough for the answer to be too old: a lookup fetches it again...
  watches[0](0);
  await tick();
  clock.advance(2_000);
  const lookup = cache.get(refreshed('web A'));
  assert.equal(fetches.length, 2);
  // ...and while that fetch runs (its server not yet at the change), the refresh sees the change.
  await tick();
  watches[watches.length - 1](11);
  await tick();
  fetches[1].resolve('v1');
  assert.equal(await lookup, 'v1');
  await tick();
  await tick();
  assert.equal(fetches.length, 3, 'fetched again after the change');
  fetches[2].resolve('v2');
  await tick();
  clock.advance(0);
  assert.equal(await cache.get(refreshed('web A')), 'v2');
  cache.close();
});
