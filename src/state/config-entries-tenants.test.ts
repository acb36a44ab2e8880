// Per-tenant config entry tables: routing of `t/<ap>/<ns>/config/…` into one table per namespace,
// rows carrying their tenant, partition-level kinds, and the wildcard namespace's table whose
// changes wake every namespace of its partition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { Replica } from './replica.ts';
import { encodeRecord } from './records.ts';
import { namespaceKey, partitionKey } from './tenancy-tables.ts';
import { tenantTableName } from './tenancy.ts';
import { allConfigEntryTables, configEntriesOf, configEntryEnt, configEntryStoreKey, partitionConfigEntries } from './config-entries-tenants.ts';

const a = { partition: 'default', namespace: 'team-a' };
const b = { partition: 'default', namespace: 'team-b' };
const ap1 = { partition: 'ap1', namespace: 'default' };
const entry = (Kind: string, Name: string) => encodeRecord({ Kind, Name });

test('store keys: the default tenant unchanged, tenants under t/, partition-level kinds in the partition, the wildcard namespace apart', () => {
  assert.equal(configEntryStoreKey(undefined, 'service-defaults', 'web'), 'config/service-defaults/web');
  assert.equal(configEntryStoreKey(a, 'service-defaults', 'web'), 't/default/team-a/config/service-defaults/web');
  assert.equal(configEntryEnt('proxy-defaults', a), undefined);
  assert.deepEqual(configEntryEnt('mesh', { partition: 'ap1', namespace: 'team-x' }), ap1);
  assert.equal(configEntryEnt('service-router', a), a);
  assert.equal(configEntryStoreKey({ partition: 'default', namespace: '*' }, 'service-intentions', '*'), 'config-ns-wildcard/service-intentions/*');
  assert.equal(configEntryStoreKey({ partition: 'ap1', namespace: '*' }, 'service-intentions', '*'), 't/ap1/default/config-ns-wildcard/service-intentions/*');
});

test('tables per namespace with their tenant on each row; a wildcard-namespace change wakes every namespace of its partition', async () => {
  const store = new MemoryStore();
  await store.txn({ success: [
    { type: 'put', key: namespaceKey(a), value: encodeRecord({ Name: 'team-a' }) },
    { type: 'put', key: partitionKey('ap1'), value: encodeRecord({ Name: 'ap1' }) },
    { type: 'put', key: 'config/service-defaults/web', value: entry('service-defaults', 'web') },
    { type: 'put', key: configEntryStoreKey(a, 'service-defaults', 'web'), value: entry('service-defaults', 'web') },
  ] });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  try {
    assert.equal(replica.configEntries.get('service-defaults', 'web')!.Namespace, undefined);
    const ea = configEntriesOf(replica, a).get('service-defaults', 'web')!;
    assert.deepEqual([ea.Namespace, ea.Partition], ['team-a', 'default']);
    assert.equal(configEntriesOf(replica, b).get('service-defaults', 'web'), undefined);
    assert.equal(replica.tenants.ignored, 0);

    const woke = new Map<string, boolean>();
    for (const t of ['config-entries', tenantTableName('config-entries', a), tenantTableName('config-entries', b), tenantTableName('config-entries', ap1)]) {
      woke.set(t, false);
      void replica.notifier.watchSet().addPrefix(t, 'service-intentions/').wait(60_000).then((w) => woke.set(t, w));
    }
    const res = await store.txn({ success: [{ type: 'put', key: 'config-ns-wildcard/service-intentions/*', value: entry('service-intentions', '*') }] });
    await replica.waitFor(res.revision);
    await new Promise((r) => setImmediate(r));
    // team-b has no namespace record: nothing of it exists to wake.
    assert.deepEqual(Object.fromEntries(woke), {
      'config-entries': true, 'config-entries@default/team-a': true, 'config-entries@default/team-b': false, 'config-entries@ap1/default': false,
    });
    const wild = configEntriesOf(replica, { partition: 'default', namespace: '*' }).get('service-intentions', '*')!;
    assert.deepEqual([wild.Namespace, wild.Partition], ['*', 'default']);
    assert.equal(replica.configEntries.get('service-intentions', '*'), undefined, 'not an entry of the default namespace');
    assert.deepEqual(partitionConfigEntries(replica, 'default').map((e) => [e.Namespace, e.Kind, e.Name]), [
      [undefined, 'service-defaults', 'web'], ['*', 'service-intentions', '*'], ['team-a', 'service-defaults', 'web'],
    ]);

    // Another partition's wildcard namespace: its own table, its own namespaces woken.
    let ap1Woke = false;
    void replica.notifier.watchSet().addPrefix(tenantTableName('config-entries', ap1), 'service-intentions/').wait(60_000).then((w) => { ap1Woke = w; });
    const res2 = await store.txn({ success: [{ type: 'put', key: 't/ap1/default/config-ns-wildcard/service-intentions/*', value: entry('service-intentions', '*') }] });
    await replica.waitFor(res2.revision);
    await new Promise((r) => setImmediate(r));
    assert.equal(ap1Woke, true);
    assert.equal(configEntriesOf(replica, { partition: 'ap1', namespace: '*' }).get('service-intentions', '*')!.Partition, 'ap1');
    assert.equal(replica.tenants.ignored, 0);
  } finally {
    replica.stop();
  }
});

test('the emptied config entry tables of deleted namespaces and partitions (wildcard ones too) are dropped when another tenant\'s is made', async () => {
  const store = new MemoryStore();
  await store.txn({ success: [
    { type: 'put', key: namespaceKey(a), value: encodeRecord({ Name: 'team-a' }) },
    { type: 'put', key: configEntryStoreKey(a, 'service-defaults', 'web'), value: entry('service-defaults', 'web') },
    // An entry without a namespace record (an orphan) is kept while it holds anything.
    { type: 'put', key: configEntryStoreKey(b, 'service-defaults', 'web'), value: entry('service-defaults', 'web') },
    { type: 'put', key: configEntryStoreKey({ partition: 'default', namespace: '*' }, 'service-intentions', '*'), value: entry('service-intentions', '*') },
  ] });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  try {
    let rev = 0;
    const write = async (ops: { type: 'put' | 'delete'; key: string; value?: Uint8Array }[]): Promise<void> => {
      rev = (await store.txn({ success: ops.map((o) => (o.type === 'put' ? { type: 'put' as const, key: o.key, value: o.value! } : { type: 'delete' as const, key: o.key })) })).revision;
    };
    for (let i = 0; i < 20; i++) {
      const ns = { partition: 'default', namespace: `churn-${i}` };
      const ap = `ap-${i}`;
      const apWild = { partition: ap, namespace: '*' };
      await write([{ type: 'put', key: namespaceKey(ns), value: encodeRecord({ Name: ns.namespace }) }, { type: 'put', key: partitionKey(ap), value: encodeRecord({ Name: ap }) }]);
      await write([
        { type: 'put', key: configEntryStoreKey(ns, 'service-defaults', 'web'), value: entry('service-defaults', 'web') },
        { type: 'put', key: configEntryStoreKey({ partition: ap, namespace: 'default' }, 'proxy-defaults', 'global'), value: entry('proxy-defaults', 'global') },
        { type: 'put', key: configEntryStoreKey(apWild, 'service-intentions', '*'), value: entry('service-intentions', '*') },
      ]);
      // The reaper's purge, then the records' deletes.
      await write([
        { type: 'delete', key: configEntryStoreKey(ns, 'service-defaults', 'web') },
        { type: 'delete', key: configEntryStoreKey({ partition: ap, namespace: 'default' }, 'proxy-defaults', 'global') },
        { type: 'delete', key: configEntryStoreKey(apWild, 'service-intentions', '*') },
      ]);
      await write([{ type: 'delete', key: namespaceKey(ns) }, { type: 'delete', key: partitionKey(ap) }]);
    }
    await replica.waitFor(rev);
    const left = allConfigEntryTables(replica).slice(1).map((e) => `${e.ent!.partition}/${e.ent!.namespace}`).sort();
    assert.deepEqual(left, ['ap-19/*', 'ap-19/default', 'default/*', 'default/churn-19', 'default/team-a', 'default/team-b'],
      'live tenants, non-empty tables, the default partition\'s wildcard table and the last purged ones');
    assert.equal(configEntriesOf(replica, b).get('service-defaults', 'web')!.Name, 'web');
    assert.equal(configEntriesOf(replica, { partition: 'default', namespace: '*' }).get('service-intentions', '*')!.Name, '*');
  } finally {
    replica.stop();
  }
});
