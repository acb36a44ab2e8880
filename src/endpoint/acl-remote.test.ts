import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import type { ACLTokenRecord } from '../state/index.ts';
import { RemoteTokens } from './acl-remote.ts';

const TOKEN = { AccessorID: 'a1', SecretID: 's1', Description: '', Local: false, CreateTime: '', Hash: 'h' } as ACLTokenRecord;

/** A primary that answers with `TOKEN` while up, counting the calls. */
function primary() {
  const p = { up: true, calls: 0 };
  const fetch = async (secret: string) => {
    p.calls++;
    if (!p.up) throw new Error('rpc error making call: connect ECONNREFUSED');
    return secret === 's1' ? { token: TOKEN } : null;
  };
  return { p, fetch };
}

function remote(downPolicy: string) {
  const clock = new ManualClock(0);
  const { p, fetch } = primary();
  return { p, clock, tokens: new RemoteTokens({ fetch, clock, logger: silentLogger(), ttlMs: 1000, downPolicy }) };
}

test('an answer is kept for token_ttl, then asked again; not found is asked every time', async () => {
  const { p, clock, tokens } = remote('extend-cache');
  await tokens.load('s1');
  await tokens.load('s1');
  assert.equal(p.calls, 1);
  assert.equal(tokens.get('s1')?.token?.AccessorID, 'a1');
  clock.advance(1000);
  await tokens.load('s1');
  assert.equal(p.calls, 2);
  await tokens.load('nope');
  await tokens.load('nope');
  assert.equal(p.calls, 4);
  assert.equal(tokens.get('nope')?.notFound, true);
});

test('extend-cache keeps the token when the primary is down; nothing cached means the default policy', async () => {
  const { p, clock, tokens } = remote('extend-cache');
  await tokens.load('s1');
  p.up = false;
  clock.advance(5000);
  await tokens.load('s1');
  assert.equal(tokens.get('s1')?.token?.AccessorID, 'a1');
  await tokens.load('other');
  assert.equal(tokens.get('other')?.down, 'default');
});

test('allow and deny replace what was cached once the primary is unreachable', async () => {
  for (const policy of ['allow', 'deny'] as const) {
    const { p, clock, tokens } = remote(policy);
    await tokens.load('s1');
    p.up = false;
    clock.advance(5000);
    await tokens.load('s1');
    assert.deepEqual([tokens.get('s1')?.token, tokens.get('s1')?.down], [undefined, policy]);
  }
});

test('touch fetches in the background what is missing or stale, and nothing while fresh', async () => {
  const { p, clock, tokens } = remote('extend-cache');
  tokens.touch('s1');
  await new Promise((r) => setImmediate(r));
  assert.equal(tokens.get('s1')?.token?.AccessorID, 'a1');
  tokens.touch('s1');
  await new Promise((r) => setImmediate(r));
  assert.equal(p.calls, 1);
  clock.advance(1000);
  tokens.touch('s1');
  await new Promise((r) => setImmediate(r));
  assert.equal(p.calls, 2);
});

test('a primary that never answers: down_policy applies once the question times out', async () => {
  const clock = new ManualClock(0);
  const tokens = new RemoteTokens({ fetch: () => new Promise(() => undefined), clock, logger: silentLogger(), ttlMs: 1000, downPolicy: 'deny', timeoutMs: 5000 });
  const loading = tokens.load('s1');
  await new Promise((r) => setImmediate(r));
  assert.equal(tokens.get('s1'), undefined);
  clock.advance(5000);
  await loading;
  assert.equal(tokens.get('s1')?.down, 'deny');
});

test('async-cache answers from the stale entry at once and refreshes in the background', async () => {
  const { p, clock, tokens } = remote('async-cache');
  await tokens.load('s1');
  clock.advance(5000);
  p.up = false;
  await tokens.load('s1');
  assert.equal(tokens.get('s1')?.token?.AccessorID, 'a1', 'served stale');
  await new Promise((r) => setImmediate(r));
  assert.equal(p.calls, 2, 'refreshed in the background');
  assert.equal(tokens.get('s1')?.token?.AccessorID, 'a1', 'kept after the failed refresh');
});

test('extend-cache: after a failed question the cached token serves another token_ttl before the primary is asked again', async () => {
  const { p, clock, tokens } = remote('extend-cache');
  await tokens.load('s1');
  p.up = false;
  clock.advance(5000);
  await tokens.load('s1');
  assert.equal(p.calls, 2);
  clock.advance(500);
  await tokens.load('s1');
  assert.equal(p.calls, 2, 'not asked again within token_ttl of the failure');
  assert.equal(tokens.get('s1')?.token?.AccessorID, 'a1');
  clock.advance(500);
  await tokens.load('s1');
  assert.equal(p.calls, 3);
});

test("a token local to the primary is never used here: down_policy applies, as Consul's resolver does", async () => {
  for (const [policy, down] of [['extend-cache', 'default'], ['deny', 'deny']] as const) {
    const clock = new ManualClock(0);
    const local = { ...TOKEN, Local: true };
    const tokens = new RemoteTokens({ fetch: async () => ({ token: local }), clock, logger: silentLogger(), ttlMs: 1000, downPolicy: policy });
    await tokens.load('s1');
    assert.deepEqual([tokens.get('s1')?.token, tokens.get('s1')?.down], [undefined, down]);
  }
});

test('load() counts a fresh answer as a cache hit and anything it asks the primary for as a miss', async () => {
  const clock = new ManualClock(0);
  const { fetch } = primary();
  const stats = { hit: 0, miss: 0 };
  const tokens = new RemoteTokens({
    fetch, clock, logger: silentLogger(), ttlMs: 1000, downPolicy: 'extend-cache', cacheStats: { hit: () => stats.hit++, miss: () => stats.miss++ },
  });
  await tokens.load('s1');
  assert.deepEqual(stats, { hit: 0, miss: 1 });
  await tokens.load('s1');
  assert.deepEqual(stats, { hit: 1, miss: 1 });
  clock.advance(1000);
  await tokens.load('s1');
  // Not found is not cached: each load asks again.
  await tokens.load('nope');
  await tokens.load('nope');
  assert.deepEqual(stats, { hit: 1, miss: 4 });
});
