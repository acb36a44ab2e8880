// Namespace and partition management over a memory store: upsert with indexes, builtin records,
// deferred deletion finished by the reaper (every tenant key gone, the record last), the
// default undeletable, writes into a marked tenant refused, and ACL decisions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { Replica, tenantKey } from '../state/index.ts';
import { chainedAuthorizer, denyAll } from '../acl/index.ts';
import { newPolicyAuthorizer } from '../acl/scoped-authorizer.ts';
import { parseRules } from '../acl/rules.ts';
import { ensureBuiltinTenancy } from '../leader/tenancy-builtins.ts';
import { plannedPurges, reapTenants, tenancyReaperDuty } from '../leader/tenancy-reaper.ts';
import { soloLeadership, type EndpointDeps } from './deps.ts';
import { defaultQueryOptions } from './query.ts';
import { NamespaceEndpoint } from './namespaces.ts';
import { PartitionEndpoint } from './partitions.ts';
import { writableEnt } from './tenancy.ts';
import type { AclIdentity } from './acl-resolver.ts';

async function setup() {
  const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
  const store = new MemoryStore({ clock });
  await store.open();
  const logger = silentLogger();
  const replica = new Replica({ store, clock, logger });
  await replica.start();
  const deps: EndpointDeps = {
    store, replica, clock, logger, leadership: soloLeadership('127.0.0.1:8300'), random: Math.random,
    config: { datacenter: 'dc1', nodeName: 'n1', kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, defaultQueryTime: 300_000, maxQueryTime: 600_000, sessionTtlMin: 10_000 },
  };
  await ensureBuiltinTenancy({ store, replica });
  return { deps, store, replica, clock, ns: new NamespaceEndpoint(deps), ap: new PartitionEndpoint(deps), stop: () => replica.stop() };
}

const identity = (rules: string, accessorID = 'acc-1'): AclIdentity => ({
  authorizer: chainedAuthorizer([newPolicyAuthorizer([parseRules(rules)]), denyAll()]), accessorID, tokenGiven: true,
});

const put = (key: string) => ({ type: 'put' as const, key, value: Buffer.from('{}') });

test('namespace upsert: created, updated in place (ModifyIndex moves), listed with the builtin default', async () => {
  const s = await setup();
  try {
    const a = await s.ns.upsert({ Name: 'team-1', Description: 'one', Meta: { k: 'v' } }, 'default');
    assert.equal(a.Name, 'team-1');
    assert.equal(a.Partition, 'default');
    assert.deepEqual(a.Meta, { k: 'v' });
    assert.equal(a.CreateIndex, a.ModifyIndex);
    const b = await s.ns.upsert({ Name: 'team-1', Description: 'two' }, 'default');
    assert.equal(b.CreateIndex, a.CreateIndex);
    assert.ok(b.ModifyIndex! > a.ModifyIndex!);
    assert.equal(b.Description, 'two');
    assert.equal(b.Meta, undefined, 'an update replaces the whole definition');
    const list = await s.ns.list('default', defaultQueryOptions());
    assert.deepEqual(list.value.map((n) => [n.Name, n.Description]), [['default', 'Builtin Default Namespace'], ['team-1', 'two']]);
    assert.equal(list.meta.index, b.ModifyIndex);
    assert.equal((await s.ns.read('nope', 'default', defaultQueryOptions())).value, null);
    await assert.rejects(s.ns.upsert({ Name: 'bad_name' }, 'default'), /Invalid namespace name "bad_name"/);
    await assert.rejects(s.ns.upsert({ Name: 'x' }, 'nope'), /Partition "nope" does not exist/);
  } finally {
    s.stop();
  }
});

test('a blocked namespace list wakes on a namespace write', async () => {
  const s = await setup();
  try {
    const first = await s.ns.list('default', defaultQueryOptions());
    const blocked = s.ns.list('default', { ...defaultQueryOptions(), minIndex: first.meta.index, waitMs: 60_000 });
    await s.ns.upsert({ Name: 'late' }, 'default');
    const woke = await blocked;
    assert.ok(woke.meta.index > first.meta.index);
    assert.ok(woke.value.some((n) => n.Name === 'late'));
  } finally {
    s.stop();
  }
});

test('partition create makes its default namespace; deletion purges every tenant of it, the record last', async () => {
  const s = await setup();
  try {
    const p = await s.ap.upsert({ Name: 'west', Description: 'West' });
    assert.deepEqual({ Name: p.Name, Description: p.Description }, { Name: 'west', Description: 'West' });
    assert.deepEqual((await s.ns.list('west', defaultQueryOptions())).value.map((n) => [n.Name, n.Partition]), [['default', 'west']]);
    await s.ns.upsert({ Name: 'web', Description: 'in west' }, 'west');
    const keys = [tenantKey({ partition: 'west', namespace: 'web' }, 'kv/a'), tenantKey({ partition: 'west', namespace: 'default' }, 'catalog/node/n1')];
    await s.store.txn({ compares: [], success: keys.map(put) });
    assert.deepEqual((await s.ap.list(defaultQueryOptions())).value.map((x) => x.Name), ['default', 'west']);
    await assert.rejects(s.ap.delete('default'), /Cannot delete the default partition/);
    await s.ap.delete('west');
    const marked = (await s.ap.read('west', defaultQueryOptions())).value!;
    assert.equal(marked.DeletedAt, '2026-11-26T12:00:00Z');
    assert.throws(() => writableEnt(s.replica.tenants, { partition: 'west', namespace: 'web' }), /Partition "west" is being deleted/);
    await assert.rejects(s.ns.upsert({ Name: 'more' }, 'west'), /Partition "west" is being deleted/);
    // The partition's purge covers its namespaces: one purge planned.
    assert.deepEqual(plannedPurges(s.replica).map((x) => x.name), ['west']);
    assert.equal(await reapTenants({ store: s.store, replica: s.replica, logger: s.deps.logger }), 1);
    assert.deepEqual((await s.store.range('t/west/')).kvs, []);
    assert.deepEqual((await s.store.range('tenancy/namespace/west/')).kvs, []);
    assert.equal((await s.ap.read('west', defaultQueryOptions())).value, null);
  } finally {
    s.stop();
  }
});

test('a namespace create planned before its partition was deleted and purged does not land (its txn pins the partition)', async () => {
  const s = await setup();
  try {
    await s.ap.upsert({ Name: 'west' });
    // The partition is deleted and reaped between the create's plan and its commit.
    const txn = s.store.txn.bind(s.store);
    let raced = false;
    s.store.txn = async (req) => {
      if (!raced && req.success.some((op) => op.type === 'put' && op.key === 'tenancy/namespace/west/late')) {
        raced = true;
        await s.ap.delete('west');
        assert.equal(await reapTenants({ store: s.store, replica: s.replica, logger: s.deps.logger }), 1);
      }
      return txn(req);
    };
    await assert.rejects(s.ns.upsert({ Name: 'late' }, 'west'), /Partition "west" does not exist/);
    assert.ok(raced);
    assert.deepEqual((await s.store.range('tenancy/namespace/west/')).kvs, [], 'no namespace record outlives its partition');
  } finally {
    s.stop();
  }
});

test('the reaper deletes only the tenant going away: namespace a vs ab, partition a vs namespace a, any case', async () => {
  const s = await setup();
  try {
    await s.ns.upsert({ Name: 'a' }, 'default');
    await s.ns.upsert({ Name: 'ab' }, 'default');
    await s.ap.upsert({ Name: 'a' });
    await s.ap.upsert({ Name: 'ab' });
    await s.ns.upsert({ Name: 'a' }, 'ab');
    const key = (partition: string, namespace: string) => tenantKey({ partition, namespace }, 'kv/x');
    const all = [key('default', 'a'), key('default', 'ab'), key('a', 'default'), key('ab', 'default'), key('ab', 'a'), 'kv/t/a/x', 'kv/a/x'];
    await s.store.txn({ compares: [], success: all.map(put) });
    const left = async () => (await Promise.all(all.map(async (k) => ((await s.store.range(k)).kvs.length ? k : null)))).filter((k) => k);
    await s.ns.delete('A', 'default');
    assert.equal(await reapTenants({ store: s.store, replica: s.replica, logger: s.deps.logger }), 1);
    assert.deepEqual(await left(), all.filter((k) => k !== key('default', 'a')));
    await s.ap.delete('A');
    assert.equal(await reapTenants({ store: s.store, replica: s.replica, logger: s.deps.logger }), 1);
    assert.deepEqual(await left(), [key('default', 'ab'), key('ab', 'default'), key('ab', 'a'), 'kv/t/a/x', 'kv/a/x']);
    assert.deepEqual(s.replica.tenants.namespaces.namespacesOf('ab').map((n) => n.name), ['a', 'default']);
  } finally {
    s.stop();
  }
});

test('a namespace or partition made again starts empty: a write that landed after the earlier purge does not reappear', async () => {
  const s = await setup();
  try {
    // Left behind: writes planned before the purge of an earlier team-9 and partition east.
    const orphans = [tenantKey({ partition: 'default', namespace: 'team-9' }, 'kv/x'), tenantKey({ partition: 'east', namespace: 'web' }, 'kv/y')];
    const kept = [tenantKey({ partition: 'default', namespace: 'team-90' }, 'kv/x'), 'kv/x'];
    await s.store.txn({ compares: [], success: [...orphans, ...kept].map(put) });
    await s.ns.upsert({ Name: 'team-9' }, 'default');
    await s.ap.upsert({ Name: 'east' });
    for (const k of orphans) assert.deepEqual((await s.store.range(k)).kvs, [], k);
    for (const k of kept) assert.equal((await s.store.range(k)).kvs.length, 1, k);
    // Updates never purge.
    await s.store.txn({ compares: [], success: orphans.map(put) });
    await s.ns.upsert({ Name: 'team-9', Description: 'again' }, 'default');
    await s.ap.upsert({ Name: 'east', Description: 'again' });
    await s.ap.upsert({ Name: 'default', Description: 'the builtin, updated' });
    for (const k of orphans) assert.equal((await s.store.range(k)).kvs.length, 1, k);
  } finally {
    s.stop();
  }
});

test('namespace deletion: DeletedAt from the injected clock, writes refused, the reaper duty purges on the change', async () => {
  const s = await setup();
  const duty = tenancyReaperDuty({ store: s.store, replica: s.replica, logger: s.deps.logger });
  try {
    await s.ns.upsert({ Name: 'team-1' }, 'default');
    await s.ns.upsert({ Name: 'team-2' }, 'default');
    const mine = ['kv/app/cfg', 'session/abc', 'guard/node-name/n1'].map((k) => tenantKey({ partition: 'default', namespace: 'team-1' }, k));
    const other = tenantKey({ partition: 'default', namespace: 'team-2' }, 'kv/app/cfg');
    await s.store.txn({ compares: [], success: [...mine, other, 'kv/app/cfg'].map(put) });
    await assert.rejects(s.ns.delete('default', 'default'), /Cannot delete the default namespace/);
    s.clock.advance(5_000);
    // Marked without a running reaper: the record stays, readable, with DeletedAt.
    await s.ns.delete('team-1', 'default');
    const marked = (await s.ns.read('team-1', 'default', defaultQueryOptions())).value!;
    assert.equal(marked.DeletedAt, '2026-11-26T12:00:05Z');
    assert.throws(() => writableEnt(s.replica.tenants, { partition: 'default', namespace: 'team-1' }), /Namespace "team-1" is being deleted/);
    await assert.rejects(s.ns.upsert({ Name: 'team-1' }, 'default'), /Namespace "team-1" is being deleted/);
    await s.ns.delete('team-1', 'default'); // a second delete is a no-op
    // The duty's first pass purges it.
    const gone = new Promise<void>((resolve) => {
      const check = () => (s.replica.tenants.namespaces.namespace({ partition: 'default', namespace: 'team-1' }) ? setTimeout(check, 5) : resolve());
      check();
    });
    await duty.start();
    await gone;
    assert.deepEqual((await s.store.range('t/default/team-1/')).kvs, []);
    assert.deepEqual((await s.store.range('t/default/team-2/')).kvs.map((kv) => kv.key), [other]);
    assert.equal((await s.store.range('kv/app/cfg')).kvs.length, 1, 'the default tenant is untouched');
    // A later delete is noticed by the running duty (it waits on the namespaces table).
    await s.ns.delete('team-2', 'default');
    await new Promise<void>((resolve) => {
      const check = () => (s.replica.tenants.namespaces.namespace({ partition: 'default', namespace: 'team-2' }) ? setTimeout(check, 5) : resolve());
      check();
    });
    assert.deepEqual((await s.store.range('t/')).kvs, []);
  } finally {
    duty.stop();
    s.stop();
  }
});

test('ACL: operator:write or a namespace block manages; read by operator:read or access inside; lists filtered', async () => {
  const s = await setup();
  try {
    await s.ns.upsert({ Name: 'team-1' }, 'default');
    await s.ns.upsert({ Name: 'team-2' }, 'default');
    const operatorRead = identity('operator = "read"');
    await assert.rejects(s.ns.upsert({ Name: 'x' }, 'default', operatorRead), /lacks permission 'operator:write'/);
    await assert.rejects(s.ns.delete('team-1', 'default', operatorRead), /lacks permission 'operator:write'/);
    await s.ns.upsert({ Name: 'x' }, 'default', identity('operator = "write"'));
    await s.ns.upsert({ Name: 'team-1', Description: 'by block' }, 'default', identity('namespace "team-1" { policy = "write" }'));
    assert.equal((await s.ns.read('team-1', 'default', { ...defaultQueryOptions(), authz: operatorRead })).value?.Name, 'team-1');
    const inside = identity('namespace "team-2" { key_prefix "" { policy = "read" } }');
    assert.equal((await s.ns.read('team-2', 'default', { ...defaultQueryOptions(), authz: inside })).value?.Name, 'team-2');
    await assert.rejects(s.ns.read('team-1', 'default', { ...defaultQueryOptions(), authz: inside }), /lacks permission 'operator:read'/);
    const listed = await s.ns.list('default', { ...defaultQueryOptions(), authz: inside });
    assert.deepEqual(listed.value.map((n) => n.Name), ['team-2']);
    assert.equal(listed.meta.filteredByACLs, true);
    // Partitions: operator:write manages; any non-anonymous token reads its own (default) partition.
    await assert.rejects(s.ap.upsert({ Name: 'east' }, operatorRead), /lacks permission 'operator:write'/);
    await s.ap.upsert({ Name: 'east' }, identity('operator = "write"'));
    const nobody = identity('key_prefix "" { policy = "read" }');
    assert.equal((await s.ap.read('default', { ...defaultQueryOptions(), authz: nobody })).value?.Name, 'default');
    await assert.rejects(s.ap.read('east', { ...defaultQueryOptions(), authz: nobody }), /lacks permission 'operator:read'/);
    const anon = identity('', '00000000-0000-0000-0000-000000000002');
    await assert.rejects(s.ap.read('default', { ...defaultQueryOptions(), authz: anon }), /lacks permission 'operator:read'/);
    assert.deepEqual((await s.ap.list({ ...defaultQueryOptions(), authz: nobody })).value.map((p) => p.Name), ['default']);
    assert.deepEqual((await s.ap.list({ ...defaultQueryOptions(), authz: operatorRead })).value.map((p) => p.Name), ['default', 'east']);
  } finally {
    s.stop();
  }
});

test('ACL: a deny rule on a namespace or partition holds whatever case the request spells the name in', async () => {
  const s = await setup();
  try {
    await s.ns.upsert({ Name: 'team-1' }, 'default');
    await s.ap.upsert({ Name: 'west' });
    await s.ns.upsert({ Name: 'web' }, 'west');
    const op = identity('operator = "write"\nnamespace "team-1" { policy = "deny" }\npartition "west" { policy = "deny"\n namespace "web" { policy = "deny" } }');
    for (const name of ['team-1', 'TEAM-1', 'Team-1']) {
      await assert.rejects(s.ns.upsert({ Name: name, Description: 'taken over' }, 'default', op), /Permission denied/, name);
      await assert.rejects(s.ns.delete(name, 'default', op), /Permission denied/, name);
      await assert.rejects(s.ns.read(name, 'default', { ...defaultQueryOptions(), authz: identity('namespace "team-1" { policy = "deny" }\noperator = "read"') }), /Permission denied/, name);
    }
    for (const ap of ['west', 'WEST']) {
      await assert.rejects(s.ns.upsert({ Name: 'WEB' }, ap, op), /Permission denied/, ap);
      await assert.rejects(s.ap.upsert({ Name: ap, Description: 'taken over' }, op), /Permission denied/, ap);
      await assert.rejects(s.ap.delete(ap, op), /Permission denied/, ap);
    }
    assert.equal(s.replica.tenants.namespaces.namespace({ partition: 'default', namespace: 'team-1' })!.DeletedAt, undefined);
    assert.equal(s.replica.tenants.partitions.partition('west')!.DeletedAt, undefined);
  } finally {
    s.stop();
  }
});

test('putReplicated marks what it writes as replicated (never shown); a namespace made here gets the mark once, the builtin default is left as it is', async () => {
  const s = await setup();
  try {
    const rec = (name: string) => s.replica.tenants.namespaces.namespace({ partition: 'default', namespace: name });
    await s.ns.putReplicated({ Name: 'from-primary', Description: 'p', Partition: 'default', CreateIndex: 7, ModifyIndex: 9 });
    assert.equal(rec('from-primary')?.Replicated, true);
    const [shown] = (await s.ns.list('default', defaultQueryOptions())).value.filter((n) => n.Name === 'from-primary');
    assert.equal('Replicated' in shown, false);
    const again = rec('from-primary')!.ModifyIndex;
    await s.ns.putReplicated({ Name: 'from-primary', Description: 'p', Partition: 'default', CreateIndex: 7, ModifyIndex: 9 });
    assert.equal(rec('from-primary')!.ModifyIndex, again, 'unchanged: not rewritten');
    // Made here (before namespace writes went to the primary) with the primary's content: marked with one write.
    await s.ns.upsert({ Name: 'made-here', Description: 'same' }, 'default');
    assert.equal(rec('made-here')?.Replicated, undefined);
    await s.ns.putReplicated({ Name: 'made-here', Description: 'same', Partition: 'default', CreateIndex: 3, ModifyIndex: 3 });
    assert.equal(rec('made-here')?.Replicated, true);
    const def = rec('default')!;
    await s.ns.putReplicated({ Name: 'default', Description: 'Builtin Default Namespace', Partition: 'default', CreateIndex: 1, ModifyIndex: 1 });
    assert.equal(rec('default')!.ModifyIndex, def.ModifyIndex);
    // The deletion mark keeps it.
    await s.ns.deleteReplicated('from-primary');
    assert.equal(rec('from-primary')?.Replicated, true);
    assert.ok(rec('from-primary')?.DeletedAt);
  } finally {
    await s.stop();
  }
});

test('a new namespace starts empty but keeps the services peers export into a namespace of its name (they landed before it was made here)', async () => {
  const s = await setup();
  try {
    const ent = { partition: 'default', namespace: 'team-z' };
    const imported = { Peer: 'to-a', Service: 'web', Nodes: [] };
    await s.store.txn({ compares: [], success: [put(tenantKey(ent, 'kv/stale')), { type: 'put', key: tenantKey(ent, 'peerimport/to-a/web'), value: Buffer.from(JSON.stringify(imported)) }] });
    await s.ns.upsert({ Name: 'team-z' }, 'default');
    const keys = (await s.store.range('t/default/team-z/')).kvs.map((kv) => kv.key);
    assert.deepEqual(keys, ['t/default/team-z/peerimport/to-a/web']);
    assert.deepEqual(JSON.parse((await s.store.range('t/default/team-z/peerimport/to-a/web')).kvs[0].value.toString()), imported);
  } finally {
    await s.stop();
  }
});
