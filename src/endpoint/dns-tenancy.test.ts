// DnsView's tenant readers over a memory store: one reader per existing namespace asked, none for
// names that do not exist, and readers of namespaces deleted since are not kept.
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
  return { replica, ns: new NamespaceEndpoint(deps), stop: () => replica.stop() };
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
