import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ManualClock } from '../../clock.ts';
import { AgentCache, DEFAULT_LAST_GET_TTL_MS, type FetchOptions, type FetchResult } from './cache.ts';

/** A fetch whose calls the test answers by hand. */
class Server {
  calls: { opts: FetchOptions; resolve: (r: FetchResult<string>) => void; reject: (e: Error) => void }[] = [];
  fetch = (opts: FetchOptions): Promise<FetchResult<string>> => new Promise((resolve, reject) => {
    this.calls.push({ opts, resolve, reject });
    opts.signal.addEventListener('abort', () => reject(new Error('aborted')));
  });
  get last() {
    return this.calls[this.calls.length - 1];
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(limits?: { maxEntries?: number; maxBytes?: number; maxRefreshing?: number }) {
  const clock = new ManualClock();
  const cache = new AgentCache<string>({ clock, random: () => 0, limits, sizeOf: (v) => v.length });
  cache.registerType('refresh', { refresh: true, supportsBlocking: true });
  cache.registerType('simple', { refresh: false, supportsBlocking: false });
  return { clock, cache, server: new Server() };
}

test('a simple type: the first read fetches (miss), the next answers from memory with its age', async () => {
  const { clock, cache, server } = setup();
  const first = cache.get({ type: 'simple', key: 'k' }, server.fetch);
  const shared = cache.get({ type: 'simple', key: 'k' }, server.fetch);
  await tick();
  assert.equal(server.calls.length, 1, 'readers of one key share one fetch');
  server.last.resolve({ value: 'v1', index: 5 });
  assert.deepEqual(await first, { value: 'v1', meta: { hit: false, ageMs: 0, index: 5 } });
  assert.equal((await shared).meta.hit, false);
  clock.advance(65_000);
  assert.deepEqual(await cache.get({ type: 'simple', key: 'k' }, server.fetch), { value: 'v1', meta: { hit: true, ageMs: 65_000, index: 5 } });
  assert.equal(server.calls.length, 1);
});

test('max-age and must-revalidate refetch a simple entry; stale-if-error answers it when the fetch fails', async () => {
  const { clock, cache, server } = setup();
  const p = cache.get({ type: 'simple', key: 'k' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'v1', index: 5 });
  await p;
  clock.advance(65_000);
  assert.equal((await cache.get({ type: 'simple', key: 'k', maxAgeMs: 120_000 }, server.fetch)).meta.hit, true, 'young enough');
  const older = cache.get({ type: 'simple', key: 'k', maxAgeMs: 30_000 }, server.fetch);
  await tick();
  assert.equal(server.calls.length, 2, 'older than max-age: fetched again');
  server.last.resolve({ value: 'v2', index: 6 });
  assert.deepEqual(await older, { value: 'v2', meta: { hit: false, ageMs: 0, index: 6 } });
  const revalidate = cache.get({ type: 'simple', key: 'k', mustRevalidate: true }, server.fetch);
  await tick();
  server.last.resolve({ value: 'v3', index: 7 });
  assert.equal((await revalidate).value, 'v3');

  clock.advance(65_000);
  // Servers down: max-age alone fails, stale-if-error answers the kept value, not past its window.
  const down = cache.get({ type: 'simple', key: 'k', maxAgeMs: 30_000 }, server.fetch);
  await tick();
  server.last.reject(new Error('No known Consul servers'));
  await assert.rejects(down, /No known Consul servers/);
  const stale = cache.get({ type: 'simple', key: 'k', maxAgeMs: 30_000, staleIfErrorMs: 259_200_000 }, server.fetch);
  await tick();
  server.last.reject(new Error('No known Consul servers'));
  assert.deepEqual(await stale, { value: 'v3', meta: { hit: true, ageMs: 65_000, index: 7 } });
  const tooOld = cache.get({ type: 'simple', key: 'k', mustRevalidate: true, staleIfErrorMs: 60_000 }, server.fetch);
  await tick();
  server.last.reject(new Error('No known Consul servers'));
  await assert.rejects(tooOld, /No known Consul servers/);
  // Without Cache-Control the kept value still answers (fail static).
  assert.equal((await cache.get({ type: 'simple', key: 'k' }, server.fetch)).value, 'v3');
});

test('a refresh type keeps a blocking query running and answers its latest result', async () => {
  const { clock, cache, server } = setup();
  const p = cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  await tick();
  assert.deepEqual([server.last.opts.minIndex, server.last.opts.timeoutMs], [0, 600_000]);
  server.last.resolve({ value: 'v1', index: 10 });
  assert.equal((await p).meta.hit, false);
  await tick();
  assert.equal(server.calls.length, 2, 'background query started');
  assert.deepEqual([server.last.opts.minIndex, server.last.opts.timeoutMs], [10, 600_000]);
  server.last.resolve({ value: 'v2', index: 11 });
  await tick();
  clock.advance(10_000);
  // Cache-Control does not apply: the entry is kept current instead.
  assert.deepEqual(await cache.get({ type: 'refresh', key: 'k', maxAgeMs: 1000 }, server.fetch), { value: 'v2', meta: { hit: true, ageMs: 0, index: 11 } });
  assert.equal(server.calls.length, 3);
  assert.equal(server.last.opts.minIndex, 11);
});

test('a blocking read on a refresh entry waits for a newer index, or answers what it has at the deadline', async () => {
  const { clock, cache, server } = setup();
  const p = cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'v1', index: 10 });
  await p;
  await tick();
  const blocked = cache.get({ type: 'refresh', key: 'k', minIndex: 10, timeoutMs: 60_000 }, server.fetch);
  await tick();
  assert.equal(server.calls.length, 2, 'the reader joins the background query');
  server.last.resolve({ value: 'v2', index: 12 });
  assert.deepEqual(await blocked, { value: 'v2', meta: { hit: false, ageMs: 0, index: 12 } });
  await tick();
  const waiting = cache.get({ type: 'refresh', key: 'k', minIndex: 12, timeoutMs: 60_000 }, server.fetch);
  await tick();
  clock.advance(60_000);
  assert.deepEqual(await waiting, { value: 'v2', meta: { hit: false, ageMs: 0, index: 12 } });
  // An older index answers at once.
  assert.equal((await cache.get({ type: 'refresh', key: 'k', minIndex: 5 }, server.fetch)).meta.hit, true);
});

test('a refresh entry whose background query fails keeps answering, its Age counting from the lost contact, and backs off', async () => {
  const { clock, cache, server } = setup();
  const p = cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'v1', index: 10 });
  await p;
  await tick();
  server.last.reject(new Error('rpc error'));
  await tick();
  clock.advance(5_000);
  assert.deepEqual(await cache.get({ type: 'refresh', key: 'k' }, server.fetch), { value: 'v1', meta: { hit: true, ageMs: 5_000, index: 10 } });
  // Three failures retry at once; the fourth waits 2 s (random 0: no stagger).
  for (let i = 0; i < 3; i++) {
    await tick();
    server.last.reject(new Error('rpc error'));
  }
  await tick();
  const calls = server.calls.length;
  clock.advance(1_999);
  await tick();
  assert.equal(server.calls.length, calls, 'backing off');
  clock.advance(1);
  await tick();
  assert.equal(server.calls.length, calls + 1);
  server.last.resolve({ value: 'v2', index: 11 });
  await tick();
  assert.deepEqual(await cache.get({ type: 'refresh', key: 'k' }, server.fetch), { value: 'v2', meta: { hit: true, ageMs: 0, index: 11 } });
});

test('an entry unread for the last-get TTL (3 days) is dropped and its background query ends', async () => {
  const { clock, cache, server } = setup();
  const p = cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'v1', index: 10 });
  await p;
  await tick();
  const background = server.last;
  clock.advance(DEFAULT_LAST_GET_TTL_MS - 1000);
  await cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  clock.advance(DEFAULT_LAST_GET_TTL_MS - 1000);
  assert.equal(cache.size, 1, 'a read extends the entry');
  assert.equal(background.opts.signal.aborted, false);
  clock.advance(1000);
  assert.equal(cache.size, 0);
  assert.equal(background.opts.signal.aborted, true);
});

test('the cache is bounded: the least recently read entries go first', async () => {
  const { cache, server } = setup({ maxEntries: 2 });
  for (const key of ['a', 'b']) {
    const p = cache.get({ type: 'simple', key }, server.fetch);
    await tick();
    server.last.resolve({ value: key, index: 1 });
    await p;
  }
  await cache.get({ type: 'simple', key: 'a' }, server.fetch);
  const p = cache.get({ type: 'simple', key: 'c' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'c', index: 1 });
  await p;
  assert.equal(cache.size, 2);
  assert.equal((await cache.get({ type: 'simple', key: 'a' }, server.fetch)).meta.hit, true);
  const again = cache.get({ type: 'simple', key: 'b' }, server.fetch);
  await tick();
  assert.equal(server.calls.length, 4, "'b' was evicted");
  server.last.resolve({ value: 'b', index: 1 });
  await again;

  const bytes = setup({ maxBytes: 10 });
  for (const key of ['x', 'y']) {
    const q = bytes.cache.get({ type: 'simple', key }, bytes.server.fetch);
    await tick();
    bytes.server.last.resolve({ value: '123456', index: 1 });
    await q;
  }
  assert.equal(bytes.cache.size, 1, 'two 6-byte values exceed 10 bytes');
});

test('closing while a read waits on a fetch ends the read: no new entry or fetch after close', async () => {
  const { cache, server } = setup();
  const p = cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  await tick();
  cache.close();
  await assert.rejects(p);
  await tick();
  assert.equal(server.calls.length, 1, 'nothing fetched after close');
  assert.equal(cache.size, 0);
});

test('blocking reads that time out while the background query is held are not kept until it answers', async () => {
  const { clock, cache, server } = setup();
  const p = cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'v1', index: 10 });
  await p;
  await tick();
  // The background query blocks (for up to 10 minutes); readers with a short ?wait come and go.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  let collected = 0;
  const registry = new FinalizationRegistry(() => { collected++; });
  const readers = 200;
  for (let i = 0; i < readers; i++) {
    const reader = new AbortController();
    registry.register(reader.signal, i);
    const read = cache.get({ type: 'refresh', key: 'k', minIndex: 10, timeoutMs: 1_000, signal: reader.signal }, server.fetch);
    await tick();
    clock.advance(1_000);
    assert.equal((await read).meta.index, 10);
  }
  assert.equal(server.calls.length, 2, 'still the one background query');
  for (let i = 0; i < 10 && collected < readers / 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(collected >= readers / 2, `readers that left are collected (${collected} of ${readers})`);
  cache.close();
});

test('entries holding a background query are bounded on their own (each is a held connection to a server); the least recently read goes and its query ends', async () => {
  const { cache, server } = setup({ maxRefreshing: 2 });
  for (const key of ['a', 'b', 's']) {
    const p = cache.get({ type: key === 's' ? 'simple' : 'refresh', key }, server.fetch);
    await tick();
    server.last.resolve({ value: key, index: 5 });
    await p;
    await tick();
  }
  const background = server.calls.filter((c) => c.opts.minIndex > 0);
  assert.equal(background.length, 2, 'a and b each hold a background query');
  const aborted = background.map((c) => c.opts.signal);
  const p = cache.get({ type: 'refresh', key: 'c' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'c', index: 5 });
  await p;
  await tick();
  assert.deepEqual(aborted.map((s) => s.aborted), [true, false], "a's background query ended");
  assert.equal(cache.size, 3, 'b, c and the simple entry remain');
  assert.equal((await cache.get({ type: 'simple', key: 's' }, server.fetch)).meta.hit, true);
  cache.close();
});

test('a blocking read whose wait runs out before the first fetch answers waits for that fetch, without re-arming its timer', async () => {
  const clock = new ManualClock();
  let timers = 0;
  const cache = new AgentCache<string>({ clock: { now: () => clock.now(), setTimer: (ms, fn) => (timers++, clock.setTimer(ms, fn)) } });
  cache.registerType('refresh', { refresh: true, supportsBlocking: true });
  const server = new Server();
  const read = cache.get({ type: 'refresh', key: 'k', minIndex: 5, timeoutMs: 1_000 }, server.fetch);
  await tick();
  const armed = timers;
  clock.advance(1_000);
  for (let i = 0; i < 5; i++) {
    await tick();
    clock.advance(0);
  }
  assert.equal(timers, armed, 'no timer after the deadline');
  server.last.resolve({ value: 'v1', index: 7 });
  assert.deepEqual(await read, { value: 'v1', meta: { hit: false, ageMs: 0, index: 7 } });
  // A first value at or below the reader's index answers too: its wait is over.
  const low = cache.get({ type: 'refresh', key: 'low', minIndex: 5, timeoutMs: 1_000 }, server.fetch);
  await tick();
  clock.advance(1_000);
  await tick();
  server.last.resolve({ value: 'old', index: 3 });
  assert.deepEqual(await low, { value: 'old', meta: { hit: false, ageMs: 0, index: 3 } });
  cache.close();
});

test('cache.entry_fetch_rate and max_burst: each entry\'s fetches past the burst wait for the bucket; other entries do not', async () => {
  const clock = new ManualClock();
  const cache = new AgentCache<string>({ clock, random: () => 0, entryFetchRate: 0.5, entryFetchMaxBurst: 2 });
  cache.registerType('refresh', { refresh: true, supportsBlocking: true });
  const server = new Server();
  const p = cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'v1', index: 5 });
  await p;
  await tick();
  // The burst of 2: the first fetch and the first background refresh go at once.
  assert.equal(server.calls.length, 2);
  server.last.resolve({ value: 'v2', index: 6 });
  await tick();
  assert.equal(server.calls.length, 2, 'the third fetch waits for a token (one every 2 s)');
  clock.advance(1_999);
  await tick();
  assert.equal(server.calls.length, 2);
  clock.advance(1);
  await tick();
  assert.equal(server.calls.length, 3);
  assert.equal(server.last.opts.minIndex, 6);
  // Another entry has its own bucket.
  const other = cache.get({ type: 'refresh', key: 'other' }, server.fetch);
  await tick();
  assert.equal(server.calls.length, 4);
  server.last.resolve({ value: 'o', index: 1 });
  await other;
  cache.close();
});

test('without entry_fetch_rate (Consul\'s default, no limit) refreshes follow each other at once', async () => {
  const { cache, server } = setup();
  const p = cache.get({ type: 'refresh', key: 'k' }, server.fetch);
  await tick();
  for (let i = 1; i <= 5; i++) {
    server.last.resolve({ value: `v${i}`, index: 5 + i });
    await tick();
  }
  await p;
  assert.equal(server.calls.length, 6);
  cache.close();
});

test('a read waiting for its entry\'s fetch token is let go when the cache closes (the agent stopping)', async () => {
  const clock = new ManualClock();
  const cache = new AgentCache<string>({ clock, random: () => 0, entryFetchRate: 0.5, entryFetchMaxBurst: 1 });
  cache.registerType('simple', { refresh: false, supportsBlocking: false });
  const server = new Server();
  const first = cache.get({ type: 'simple', key: 'k' }, server.fetch);
  await tick();
  server.last.resolve({ value: 'v1', index: 5 });
  await first;
  // The bucket is empty: this read's fetch waits 2 s for a token.
  const waiting = cache.get({ type: 'simple', key: 'k', mustRevalidate: true }, server.fetch);
  await tick();
  assert.equal(server.calls.length, 1);
  cache.close();
  const outcome = await Promise.race([waiting.then(() => 'answered', (e: Error) => e.message), tick().then(() => 'still waiting')]);
  assert.equal(outcome, 'agent cache closed', 'the token timer was cancelled: nothing else would wake the read');
  clock.advance(2_000);
  await tick();
  assert.equal(server.calls.length, 1, 'no fetch after close');
});
