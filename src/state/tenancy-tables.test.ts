// The replica's tenancy tables: partition and namespace records, tenant events routed to the
// handler of their inner prefix (with the tenant), and tenant events nothing handles ignored
// without touching the default tenant's tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import type { WatchEvent } from '../store/index.ts';
import { Replica } from './replica.ts';
import { encodeKV } from './kvs.ts';
import { encodeRecord } from './records.ts';
import { TenantTables, PerTenant, namespaceKey, partitionKey } from './tenancy-tables.ts';
import { tenantKey, tenantTableName, type EnterpriseMeta } from './tenancy.ts';

const team = { partition: 'default', namespace: 'team-1' };
const utf8 = new TextEncoder();
const kv = (value: Buffer) => encodeKV({ Flags: 0n, LockIndex: 0, Session: '', Value: value });

function put(key: string, value = '{}', rev = 1): WatchEvent {
  return { type: 'put', kv: { key, value: utf8.encode(value), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}

test('tenant events reach the handler of their inner prefix with the inner key and tenant', () => {
  const t = new TenantTables();
  const seen: [string, string, string][] = [];
  t.register({ prefix: 'kv/', apply: (ent, ev, out) => { seen.push([ent.partition, ent.namespace, ev.kv.key]); out.push('kvs@x', ev.kv.key); }, reset: () => seen.push(['reset', '', '']) });
  const out: string[] = [];
  t.apply(put('t/na-west/team-1/kv/app/cfg'), out);
  t.apply(put('t/default/team-1/config/service-defaults/web'), out);
  t.apply(put('t/default/default/kv/a'), out);
  t.apply(put('t/bad'), out);
  assert.deepEqual(seen, [['na-west', 'team-1', 'kv/app/cfg']]);
  assert.deepEqual(out, ['kvs@x', 'kv/app/cfg']);
  assert.equal(t.ignored, 3);
  t.reset();
  assert.deepEqual(seen.at(-1), ['reset', '', '']);
  assert.throws(() => t.register({ prefix: 'kv/x', apply: () => undefined, reset: () => undefined }), /overlaps/);
});

test('PerTenant makes one instance per tenant, found in any case', () => {
  const made: EnterpriseMeta[] = [];
  const p = new PerTenant((ent) => { made.push(ent); return new Map<string, string>(); });
  assert.equal(p.get(team), undefined);
  const a = p.of(team);
  assert.equal(p.of({ partition: 'DEFAULT', namespace: 'Team-1' }), a);
  assert.equal(made.length, 1);
  assert.equal(p.entries().length, 1);
  p.clear();
  assert.equal(p.get(team), undefined);
});

test('the replica keeps partition and namespace records and ignores tenant data it cannot route', async () => {
  const store = new MemoryStore();
  await store.txn({ success: [
    { type: 'put', key: 'kv/a', value: kv(Buffer.from('default')) },
    { type: 'put', key: tenantKey(team, 'unrouted/a'), value: kv(Buffer.from('team')) },
    { type: 'put', key: partitionKey('default'), value: encodeRecord({ Name: 'default', Description: 'Builtin Default Partition' }) },
    { type: 'put', key: namespaceKey({ partition: 'default', namespace: 'default' }), value: encodeRecord({ Name: 'default', Description: 'Builtin Default Namespace' }) },
    { type: 'put', key: namespaceKey(team), value: encodeRecord({ Name: 'Team-1' }) },
    { type: 'put', key: namespaceKey({ partition: 'na-west', namespace: 'x' }), value: encodeRecord({ Name: 'x' }) },
  ] });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  try {
    assert.equal(Buffer.from(replica.kvs.get('a')!.Value!).toString(), 'default');
    assert.equal(replica.kvs.size, 1);
    assert.equal(replica.tenants.ignored, 1);
    assert.equal(replica.tenants.partitions.partition('DEFAULT')?.Description, 'Builtin Default Partition');
    assert.equal(replica.tenants.namespaces.namespace({ partition: 'Default', namespace: 'TEAM-1' })?.Name, 'Team-1');
    assert.deepEqual(replica.tenants.namespaces.namespacesOf('default').map((n) => n.name), ['default', 'team-1']);
    assert.deepEqual(replica.tenants.namespaces.namespacesOf('na-west').map((n) => n.name), ['x']);

    // A later tenant write is ignored too; a namespace write bumps its table and wakes its watchers.
    const ws = replica.notifier.watchSet().addTable('namespaces');
    const woke = ws.wait(60_000);
    const res = await store.txn({ success: [
      { type: 'put', key: tenantKey(team, 'unrouted/b'), value: kv(Buffer.from('x')) },
      { type: 'put', key: namespaceKey({ partition: 'default', namespace: 'team-2' }), value: encodeRecord({ Name: 'team-2' }) },
    ] });
    await replica.waitFor(res.revision);
    assert.equal(replica.kvs.get('b'), undefined);
    assert.equal(replica.tenants.ignored, 2);
    assert.equal(replica.tenants.namespaces.index, res.revision);
    assert.equal(await woke, true);
  } finally {
    replica.stop();
  }
});

test('a registered handler gets tenant events from the live replica, listing and watch alike, and wakes only its tenant', async () => {
  const store = new MemoryStore();
  await store.txn({ success: [{ type: 'put', key: tenantKey(team, 'test/listed'), value: kv(Buffer.from('1')) }] });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  const tables = new PerTenant<Map<string, string>>(() => new Map());
  replica.tenants.register({
    prefix: 'test/',
    apply: (ent, ev, out) => {
      const t = tables.of(ent);
      if (ev.type === 'put') t.set(ev.kv.key, Buffer.from(ev.kv.value).toString());
      else t.delete(ev.kv.key);
      out.push(tenantTableName('test', ent), ev.kv.key);
    },
    reset: () => tables.clear(),
  });
  await replica.start();
  try {
    assert.deepEqual([...tables.of(team).keys()], ['test/listed']);
    const other = { partition: 'default', namespace: 'team-2' };
    const mine = replica.notifier.watchSet().addTable(tenantTableName('test', team)).wait(60_000);
    let otherWoke = false;
    void replica.notifier.watchSet().addTable(tenantTableName('test', other)).wait(60_000).then((w) => { otherWoke = w; });
    const res = await store.txn({ success: [
      { type: 'put', key: tenantKey(team, 'test/new'), value: kv(Buffer.from('2')) },
      { type: 'put', key: 'kv/new', value: kv(Buffer.from('default')) },
    ] });
    await replica.waitFor(res.revision);
    assert.equal(await mine, true);
    assert.equal(otherWoke, false);
    assert.equal(tables.of(team).size, 2);
    assert.equal(tables.get(other), undefined);
    assert.equal(replica.kvs.size, 1, 'the default tenant holds only its own key');
    assert.equal(replica.tenants.ignored, 0);
  } finally {
    replica.stop();
  }
});
