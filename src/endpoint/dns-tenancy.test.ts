// DnsView's tenant readers over a memory store: one reader per existing namespace asked, none for
// names that do not exist, and readers of namespaces deleted since are not kept; PTR's service
// lookup reads every namespace of the agent's partition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { Replica } from '../state/index.ts';
import { ensureBuiltinTenancy } from '../leader/tenancy-builtins.ts';
import { soloLeadership, type EndpointDeps } from './deps.ts';
import { NamespaceEndpoint } from './namespaces.ts';
import { DnsView } from './dns-view.ts';
import { CatalogEndpoint } from './catalog.ts';
import { PartitionEndpoint } from './partitions.ts';

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
  return { replica, ns: new NamespaceEndpoint(deps), ap: new PartitionEndpoint(deps), catalog: new CatalogEndpoint(deps), stop: () => replica.stop() };
}

test('tenant readers: none for unknown names; readers of deleted namespaces are dropped when another is made', async () => {
  const s = await setup();
  try {
    const view = new DnsView(s.replica);
    for (let i = 0; i < 50; i++) assert.equal(view.tenant({ partition: 'default', namespace: `random-${i}` }), undefined);
    assert.equal(view.tenantCount, 0, 'names that do not exist make no reader');
    for (let i = 0; i < 20; i++) {
      await s.ns.upsert({ Name: `churn-${i}` }, 'default');
      assert.ok(view.tenant({ partition: 'default', namespace: `churn-${i}` }));
      await s.ns.delete(`churn-${i}`, 'default');
    }
    assert.ok(view.tenantCount <= 1, `readers kept for deleted namespaces: ${view.tenantCount}`);
    await s.ns.upsert({ Name: 'kept' }, 'default');
    const kept = view.tenant({ partition: 'default', namespace: 'KEPT' });
    assert.ok(kept);
    assert.equal(view.tenant({ partition: 'default', namespace: 'kept' }), kept, 'one reader per namespace, names folded');
  } finally {
    s.stop();
  }
});

test('PTR service lookup: every namespace of the asking agent\'s partition, default first, a namespaced one with its Namespace; never another partition', async () => {
  const s = await setup();
  try {
    await s.ap.upsert({ Name: 'ap1' });
    await s.ns.upsert({ Name: 'team' }, 'ap1');
    await s.ns.upsert({ Name: 'team' }, 'default');
    const reg = (node: string, addr: string, svc: string, svcAddr: string, ent?: { partition: string; namespace: string }) =>
      s.catalog.register({ Node: node, Address: addr, Service: { ID: svc, Service: svc, Port: 80, Address: svcAddr } } as never, undefined, ent);
    await reg('a1', '10.5.0.1', 'inap', '10.5.1.1', { partition: 'ap1', namespace: 'team' });
    await reg('a2', '10.5.0.2', 'apdef', '10.5.1.2', { partition: 'ap1', namespace: 'default' });
    await reg('d1', '10.5.0.3', 'dflt', '10.5.1.3');
    await reg('d2', '10.5.0.4', 'teamsvc', '10.5.1.4', { partition: 'default', namespace: 'team' });
    const view = new DnsView(s.replica);
    const ap1 = view.tenant({ partition: 'ap1', namespace: 'default' })!;
    const seen = (r: typeof view | typeof ap1, ip: string) => { const x = r.serviceByAddress(ip); return x && `${x.Service}@${x.Namespace ?? ''}`; };
    assert.equal(seen(ap1, '10.5.1.1'), 'inap@team');
    assert.match(seen(ap1, '10.5.1.2') ?? '', /^apdef@(default)?$/);
    assert.equal(seen(ap1, '10.5.1.3'), undefined, 'the default partition\'s service');
    assert.match(seen(view, '10.5.1.3') ?? '', /^dflt@(default)?$/);
    assert.equal(seen(view, '10.5.1.4'), 'teamsvc@team');
    assert.equal(seen(view, '10.5.1.1'), undefined, 'ap1\'s service');
  } finally {
    s.stop();
  }
});
