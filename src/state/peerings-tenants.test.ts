// Per-tenant imported-service tables: a deleted namespace's emptied table is dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { Replica } from './replica.ts';
import { encodeRecord } from './records.ts';
import { peerImportKey } from './peerings.ts';
import { namespaceKey } from './tenancy-tables.ts';
import { tenantKey } from './tenancy.ts';
import { partitionPeerImports, peerImportsOf } from './peerings-tenants.ts';

const imported = (Service: string) => encodeRecord({ Peer: 'dc2', Service });

test('the emptied import tables of deleted namespaces are dropped when another namespace\'s is made', async () => {
  const store = new MemoryStore();
  const live = { partition: 'default', namespace: 'live' };
  const orphan = { partition: 'default', namespace: 'orphan' };
  await store.txn({ success: [
    { type: 'put', key: namespaceKey(live), value: encodeRecord({ Name: 'live' }) },
    { type: 'put', key: tenantKey(live, peerImportKey('dc2', 'web')), value: imported('web') },
    { type: 'put', key: tenantKey(orphan, peerImportKey('dc2', 'web')), value: imported('web') },
  ] });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  try {
    let rev = 0;
    for (let i = 0; i < 20; i++) {
      const ent = { partition: 'default', namespace: `churn-${i}` };
      await store.txn({ success: [{ type: 'put', key: namespaceKey(ent), value: encodeRecord({ Name: ent.namespace }) }] });
      await store.txn({ success: [{ type: 'put', key: tenantKey(ent, peerImportKey('dc2', 'web')), value: imported('web') }] });
      await store.txn({ success: [{ type: 'delete', key: tenantKey(ent, peerImportKey('dc2', 'web')) }] });
      rev = (await store.txn({ success: [{ type: 'delete', key: namespaceKey(ent) }] })).revision;
    }
    await replica.waitFor(rev);
    const left = partitionPeerImports(replica, 'default').slice(1).map((e) => e.ent!.namespace).sort();
    assert.deepEqual(left, ['churn-19', 'live', 'orphan'], 'live namespaces, non-empty tables and the last purged one');
    assert.equal(peerImportsOf(replica, live).service('dc2', 'web')!.Service, 'web');
  } finally {
    replica.stop();
  }
});
