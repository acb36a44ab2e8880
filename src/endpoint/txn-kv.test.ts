// The txn KV workspace keeps tenants apart: the same key in two namespaces and the default one,
// delete-tree in one tenant leaving the others, and store keys and compares under the tenant prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { Replica, encodeKV, tenantKey } from '../state/index.ts';
import { KvTxnWorkspace } from './txn-kv.ts';

const a = { partition: 'default', namespace: 'team-a' };
const b = { partition: 'default', namespace: 'team-b' };
const rec = (v: string) => ({ Flags: 0n, LockIndex: 0, Session: '', Value: Buffer.from(v) });

test('each tenant is its own key space inside one transaction', async () => {
  const store = new MemoryStore();
  await store.txn({ success: [
    { type: 'put', key: 'kv/dir/k', value: encodeKV(rec('d')) },
    { type: 'put', key: tenantKey(a, 'kv/dir/k'), value: encodeKV(rec('a')) },
  ] });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  try {
    const ws = new KvTxnWorkspace(replica);
    assert.equal(ws.get('dir/k')!.Value!.toString(), 'd');
    assert.equal(ws.get('dir/k', a)!.Value!.toString(), 'a');
    assert.equal(ws.get('dir/k', b), undefined);

    ws.set('dir/new', rec('b'), b);
    assert.deepEqual(ws.list('dir/', b).map((e) => [e.Key, e.Namespace]), [['dir/new', 'team-b']]);
    assert.deepEqual(ws.list('dir/').map((e) => e.Key), ['dir/k'], 'the default tenant does not see team-b\'s overlay');
    assert.deepEqual(ws.list('').map((e) => e.Key), ['dir/k']);

    ws.deleteTree('', a);
    assert.equal(ws.get('dir/k', a), undefined);
    assert.equal(ws.get('dir/k')!.Value!.toString(), 'd', 'a tree delete in team-a leaves the default key');
    ws.deleteTree('dir/');
    assert.equal(ws.get('dir/k'), undefined);
    assert.equal(ws.get('dir/new', b)!.Value!.toString(), 'b', 'nor does the default one touch team-b');

    assert.deepEqual(ws.writes().map((o) => (o.type === 'deletePrefix' ? `-${o.prefix}` : `${o.type} ${'key' in o ? o.key : ''}`)), [
      'put t/default/team-b/kv/dir/new', '-t/default/team-a/kv/', '-kv/dir/',
    ]);
    assert.deepEqual(ws.compares().map((c) => c.key).sort(), ['kv/dir/k', 't/default/team-a/kv/dir/k', 't/default/team-b/kv/dir/k', 't/default/team-b/kv/dir/new'].sort());
  } finally {
    replica.stop();
  }
});

test('a default-tenant key spelling a tenant and NUL is not that tenant\'s key', async () => {
  const store = new MemoryStore();
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  try {
    const ws = new KvTxnWorkspace(replica);
    ws.set('default/team-a\0k', rec('d'));
    assert.equal(ws.get('k', a), undefined);
    assert.deepEqual(ws.list('', a), []);
    ws.set('k', rec('a'), a);
    assert.equal(ws.get('default/team-a\0k')!.Value!.toString(), 'd');
    assert.deepEqual(ws.list('').map((e) => e.Key), ['default/team-a\0k']);
  } finally {
    replica.stop();
  }
});
