// The etcd backend on a member with authentication enabled: the store's Txn and Range calls
// (src/store/etcd/unary.ts) carry etcd3's token metadata with etcd's hasleader header, so an
// authenticated store writes, reads and watches, and one without credentials is refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import type { WatchBatch } from '../src/store/store.ts';
import { startEtcd, type EtcdCluster } from './support/etcd.ts';
import { waitFor } from './support/wait.ts';

let cluster: EtcdCluster | null = null;
const stores: EtcdStore[] = [];
after(async () => {
  for (const s of stores) await s.close();
  await cluster?.stop();
});

function etcdctl(endpoint: string, ...args: string[]): void {
  execFileSync('etcdctl', ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' });
}

test('an etcd store with credentials works on a member with auth enabled; one without is refused', async () => {
  cluster = await startEtcd(1);
  const [endpoint] = cluster.endpoints;
  etcdctl(endpoint, 'user', 'add', 'root', '--new-user-password=s3cret');
  etcdctl(endpoint, 'role', 'add', 'root');
  etcdctl(endpoint, 'user', 'grant-role', 'root', 'root');
  etcdctl(endpoint, 'auth', 'enable');

  const s = new EtcdStore({ endpoints: cluster.endpoints, prefix: '/auth/', auth: { username: 'root', password: 's3cret' } });
  stores.push(s);
  await s.open();
  const batches: WatchBatch[] = [];
  const w = s.watch(await s.currentRevision(), { onBatch: (b) => void batches.push(b), onCompacted: () => undefined, onError: () => undefined });
  for (let i = 0; i < 3; i++) {
    const res = await s.txn({ success: [{ type: 'put', key: 'k', value: Buffer.from(`v${i}`) }] });
    assert.equal(res.succeeded, true);
  }
  assert.equal(Buffer.from((await s.get('k'))!.value).toString(), 'v2');
  assert.equal(await s.currentRevision(), (await s.range('')).revision);
  await waitFor('the three puts watched', () => batches.flatMap((b) => b.events).length === 3);
  w.cancel();

  const anon = new EtcdStore({ endpoints: cluster.endpoints, prefix: '/auth/', requestTimeoutMs: 2_000 });
  stores.push(anon);
  await assert.rejects(anon.open());
});

test('a store whose auth token etcd no longer knows fetches a new one and goes on (etcd3 exec\'s refresh, on the direct Txn/Range calls)', async () => {
  assert.ok(cluster, 'the first test starts the member and enables auth');
  const [endpoint] = cluster.endpoints;
  const s = new EtcdStore({ endpoints: cluster.endpoints, prefix: '/auth-refresh/', auth: { username: 'root', password: 's3cret' } });
  stores.push(s);
  await s.open();
  await s.txn({ success: [{ type: 'put', key: 'k', value: Buffer.from('before') }] });
  // Disabling auth drops every simple token etcd handed out; the store's token is now invalid.
  etcdctl(endpoint, '--user', 'root:s3cret', 'auth', 'disable');
  etcdctl(endpoint, 'auth', 'enable');
  const res = await s.txn({ success: [{ type: 'put', key: 'k', value: Buffer.from('after') }] });
  assert.equal(res.succeeded, true);
  assert.equal(Buffer.from((await s.get('k'))!.value).toString(), 'after');
  assert.ok(await s.currentRevision() > 0);
});
