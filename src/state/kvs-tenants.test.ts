// Per-tenant KV tables: routing of `t/<ap>/<ns>/kv/…` into one table per namespace, watchers woken
// only for their tenant, entries carrying their tenant, and lock-delays keyed by tenant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { Replica } from './replica.ts';
import { encodeKV } from './kvs.ts';
import { encodeRecord } from './records.ts';
import { namespaceKey } from './tenancy-tables.ts';
import { tenantKey, tenantTableName } from './tenancy.ts';
import { allKvs, kvsOf, lockDelayKey, namespacesFor } from './kvs-tenants.ts';

const a = { partition: 'default', namespace: 'team-a' };
const b = { partition: 'default', namespace: 'team-b' };
const kv = (value: string, session = '') => encodeKV({ Flags: 0n, LockIndex: session ? 1 : 0, Session: session, Value: Buffer.from(value) });

test('each namespace has its own KV table, entries carry their tenant, the default table is untouched', async () => {
  const store = new MemoryStore();
  await store.txn({ success: [
    { type: 'put', key: 'kv/k', value: kv('default') },
    { type: 'put', key: tenantKey(a, 'kv/k'), value: kv('a') },
    { type: 'put', key: namespaceKey(a), value: encodeRecord({ Name: 'team-a' }) },
  ] });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  try {
    assert.equal(replica.kvs.get('k')!.Value!.toString(), 'default');
    assert.equal(replica.kvs.get('k')!.Namespace, undefined);
    const ea = kvsOf(replica, a).get('k')!;
    assert.equal(ea.Value!.toString(), 'a');
    assert.deepEqual([ea.Namespace, ea.Partition], ['team-a', 'default']);
    assert.equal(kvsOf(replica, b).get('k'), undefined);
    assert.equal(kvsOf(replica, undefined), replica.kvs);
    assert.equal(allKvs(replica).length, 2);
    assert.deepEqual(namespacesFor(replica, 'default').map((e) => e.namespace), ['default', 'team-a']);
    assert.equal(replica.tenants.ignored, 0);

    const mine = replica.notifier.watchSet().addPrefix(tenantTableName('kvs', a), '').wait(60_000);
    let otherWoke = false;
    void replica.notifier.watchSet().addPrefix(tenantTableName('kvs', b), '').wait(60_000).then((w) => { otherWoke = w; });
    let defaultWoke = false;
    void replica.notifier.watchSet().addPrefix('kvs', '').wait(60_000).then((w) => { defaultWoke = w; });
    const res = await store.txn({ success: [{ type: 'put', key: tenantKey(a, 'kv/new'), value: kv('2') }] });
    await replica.waitFor(res.revision);
    assert.equal(await mine, true);
    await new Promise((r) => setImmediate(r));
    assert.equal(otherWoke, false);
    assert.equal(defaultWoke, false);
    assert.equal(kvsOf(replica, a).index, res.revision);
    assert.equal(replica.kvs.get('new'), undefined);
  } finally {
    replica.stop();
  }
});

test('invalidating a session starts the lock-delay of a tenant key it held, keyed by tenant', async () => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const session = { ID: 's1', Name: '', Node: 'n', LockDelay: 15e9, Behavior: 'release', TTL: '', NodeChecks: null, ServiceChecks: null, Namespace: 'default' };
  await store.txn({ success: [
    { type: 'put', key: 'session/s1', value: encodeRecord(session) },
    { type: 'put', key: tenantKey(a, 'kv/lock'), value: kv('held', 's1') },
  ] });
  const replica = new Replica({ store, clock, logger: silentLogger() });
  await replica.start();
  try {
    assert.deepEqual(kvsOf(replica, a).heldBy('s1').map((e) => e.Key), ['lock']);
    const res = await store.txn({ success: [
      { type: 'delete', key: 'session/s1' },
      { type: 'put', key: tenantKey(a, 'kv/lock'), value: kv('held') },
    ] });
    await replica.waitFor(res.revision);
    assert.ok(replica.lockDelays.expiration(lockDelayKey(a, 'lock'), clock.now()) > 0);
    assert.equal(replica.lockDelays.expiration(lockDelayKey(undefined, 'lock'), clock.now()), 0, 'the default tenant key of the same name is not delayed');
    assert.equal(replica.lockDelays.expiration(lockDelayKey(b, 'lock'), clock.now()), 0);
    // A default key spelling the tenant and a NUL is another key (its lock-delay must not hold team-a's).
    assert.equal(replica.lockDelays.expiration(lockDelayKey(undefined, 'default/team-a\0lock'), clock.now()), 0);
    assert.notEqual(lockDelayKey(undefined, 'default/team-a\0lock'), lockDelayKey(a, 'lock'));
  } finally {
    replica.stop();
  }
});

test('the emptied KV tables of deleted namespaces are dropped when another namespace\'s is made', async () => {
  const store = new MemoryStore();
  const live = { partition: 'default', namespace: 'live' };
  await store.txn({ success: [
    { type: 'put', key: namespaceKey(live), value: encodeRecord({ Name: 'live' }) },
    { type: 'put', key: tenantKey(live, 'kv/k'), value: kv('x') },
    // An entry without a namespace record (an orphan) is kept while it holds anything.
    { type: 'put', key: tenantKey(a, 'kv/k'), value: kv('a') },
  ] });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  try {
    let rev = 0;
    for (let i = 0; i < 20; i++) {
      const ent = { partition: 'default', namespace: `churn-${i}` };
      await store.txn({ success: [{ type: 'put', key: namespaceKey(ent), value: encodeRecord({ Name: ent.namespace }) }] });
      await store.txn({ success: [{ type: 'put', key: tenantKey(ent, 'kv/k'), value: kv('c') }] });
      // The reaper's purge, then the record's delete.
      await store.txn({ success: [{ type: 'delete', key: tenantKey(ent, 'kv/k') }] });
      rev = (await store.txn({ success: [{ type: 'delete', key: namespaceKey(ent) }] })).revision;
    }
    await replica.waitFor(rev);
    const left = allKvs(replica).slice(1).map((e) => e.ent!.namespace).sort();
    assert.deepEqual(left, ['churn-19', 'live', 'team-a'], 'live namespaces, non-empty tables and the last purged one');
    assert.equal(kvsOf(replica, a).get('k')!.Value!.toString(), 'a');
    assert.equal(kvsOf(replica, live).get('k')!.Value!.toString(), 'x');
  } finally {
    replica.stop();
  }
});
