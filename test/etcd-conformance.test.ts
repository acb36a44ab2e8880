// Runs the shared Store conformance suite against EtcdStore on a real etcd 3.4 member started on
// 127.0.0.1 (tmpfs data dir). Every store gets its own namespace prefix in that one member.
// Fails, never skips, when etcd is not installed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { runStoreConformance } from '../src/store/conformance.ts';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import { etcdBinary, startEtcd, type EtcdCluster } from './support/etcd.ts';

let cluster: Promise<EtcdCluster> | null = null;
const etcd = () => (cluster ??= startEtcd(1));

after(async () => {
  if (cluster) await (await cluster.catch(() => null))?.stop();
});

/** Revokes every lease and deletes the namespace, so nothing a test left behind expires later. */
async function scrub(endpoints: string[], prefix: string): Promise<void> {
  const admin = new Etcd3({ hosts: endpoints });
  try {
    const { leases } = await admin.leaseClient.leaseLeases();
    for (const l of leases ?? []) await admin.leaseClient.leaseRevoke({ ID: l.ID }).catch(() => undefined);
    await admin.delete().prefix(prefix);
  } finally {
    admin.close();
  }
}

test('etcd 3.4 is installed (apt-get install etcd-server etcd-client)', () => {
  assert.equal(etcdBinary(), 'etcd');
});

runStoreConformance('etcd', async () => {
  const { endpoints } = await etcd();
  const prefix = `/conformance/${randomUUID()}/`;
  const store = new EtcdStore({ endpoints, prefix });
  await store.open();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await scrub(endpoints, prefix);
    },
  };
}, { wallClockLeases: true, timeoutMs: 60_000 });
