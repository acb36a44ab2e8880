// The KV read body written directly (kvPairJson) against the JSON of the wire objects (toKVPair),
// which is what the answer was before: every field, escaping, uint64 flags, sessions, empty values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KVEntry } from '../../state/index.ts';
import { kvPairJson, toKVPair } from './kv.ts';

const base: KVEntry = { Key: 'k', Flags: 0n, LockIndex: 0, Session: '', Value: Buffer.from('v'), CreateIndex: 1, ModifyIndex: 2 };

const cases: [string, Partial<KVEntry>][] = [
  ['a plain entry', {}],
  ['a 256-byte value', { Value: Buffer.alloc(256, 'proconsul-bench-value-') }],
  ['binary value bytes', { Value: Buffer.from([0, 255, 128, 10, 13, 34, 92]) }],
  ['no value (null)', { Value: null }],
  ['an empty value buffer', { Value: Buffer.alloc(0) }],
  ['flags above 2^53', { Flags: (1n << 64n) - 1n }],
  ['flags 2^53 + 1', { Flags: 9007199254740993n }],
  ['a locked key', { Session: 'adf4238a-882b-9ddc-4a9d-5b6758e4159e', LockIndex: 3 }],
  ['a session needing escapes', { Session: 'a"b\\c\u2028' }],
  ['keys needing escapes', { Key: 'dir/quote"back\\slash\nnew\tline\u0001\u007f' }],
  ['unicode and lone surrogates', { Key: 'ключ/🔑/\ud800/\udfff' }],
  ['an empty key', { Key: '' }],
  ['large indexes', { CreateIndex: 2 ** 40, ModifyIndex: Number.MAX_SAFE_INTEGER }],
];

for (const [name, fields] of cases) {
  test(`kvPairJson equals the JSON of toKVPair: ${name}`, () => {
    const e = { ...base, ...fields };
    assert.equal(kvPairJson(e), JSON.stringify(toKVPair(e)));
  });
}

test('tenancy fields: only on a tenant\'s entries or when the request named a tenant, after Session and before the indexes', () => {
  const plain = { ...base };
  assert.equal(kvPairJson(plain), JSON.stringify(toKVPair(plain)));
  assert.ok(!kvPairJson(plain).includes('Namespace'));
  const named = kvPairJson(plain, true);
  assert.equal(named, JSON.stringify(toKVPair(plain, true, true)));
  assert.deepEqual(Object.keys(JSON.parse(named)), ['LockIndex', 'Key', 'Flags', 'Value', 'Namespace', 'Partition', 'CreateIndex', 'ModifyIndex']);
  assert.deepEqual([JSON.parse(named).Namespace, JSON.parse(named).Partition], ['default', 'default']);
  const tenant: KVEntry = { ...base, Session: 's', Namespace: 'team-1', Partition: 'default' };
  for (const n of [false, true]) {
    const text = kvPairJson(tenant, n);
    assert.equal(text, JSON.stringify(toKVPair(tenant, true, n)));
    assert.deepEqual(Object.keys(JSON.parse(text)), ['LockIndex', 'Key', 'Flags', 'Value', 'Session', 'Namespace', 'Partition', 'CreateIndex', 'ModifyIndex']);
    assert.equal(JSON.parse(text).Namespace, 'team-1');
  }
});

test("KV writes parse the read options as Consul's KVSEndpoint does for every method: a bad Cache-Control, ?wait or ?index is a 400 and nothing is written", async () => {
  const { kvHandlers } = await import('./kv.ts');
  let writes = 0;
  const kv = { put: async () => (writes++, true), delete: async () => (writes++, true) };
  const h = kvHandlers(kv as never, { datacenter: 'dc1', defaultToken: '', kvMaxValueSize: 512 * 1024 });
  const req = (method: string, query: string, headers: Record<string, string> = {}) => ({
    method, path: '/v1/kv/a', params: { rest: 'a' }, query: new URLSearchParams(query), headers, remoteAddr: '127.0.0.1',
    signal: new AbortController().signal, body: async () => Buffer.from('v'),
  });
  await assert.rejects(h.put(req('PUT', '', { 'cache-control': 'max-age=x' })), { message: 'Invalid Cache-Control header.' });
  await assert.rejects(h.delete(req('DELETE', '', { 'cache-control': 'stale-if-error=soon' })), { message: 'Invalid Cache-Control header.' });
  await assert.rejects(h.put(req('PUT', 'wait=x')), { message: 'Invalid wait time' });
  await assert.rejects(h.delete(req('DELETE', 'index=x')), { message: 'Invalid index' });
  await assert.rejects(h.put(req('PUT', 'stale&consistent')), { message: 'Cannot specify ?stale with ?consistent, conflicting semantics.' });
  assert.equal(writes, 0);
  assert.deepEqual(await h.put(req('PUT', '', { 'cache-control': 'max-age=5' })), { body: true });
});
