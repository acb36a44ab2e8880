// A write whose answer etcd lost (its connection dropped after etcd applied it) on a real etcd:
// the store may send it again only when its compares keep a second copy from applying. A write
// fenced only by "this key does not exist yet" is not: another client may delete the key the
// first copy created before the resend, which would then create it a second time. The store
// reads etcd's history instead, and answers 503 (outcome unknown) when the key was written since.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { errorResponse } from '../src/http/errors.ts';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import { startEtcd, type EtcdCluster } from './support/etcd.ts';
import { until } from './support/wait.ts';

let cluster: EtcdCluster | null = null;
const closers: (() => unknown)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
  await cluster?.stop();
});

/**
 * A TCP proxy to `target`. `withhold()` makes the connections open now stop passing etcd's answers
 * to the client (requests still reach etcd), `withhold(true)` the requests too; `drop()` then
 * destroys them: the client's call fails with its outcome unknown. Later connections pass everything.
 */
async function lossyProxy(target: URL) {
  const open = new Set<{ client: net.Socket; upstream: net.Socket; held: boolean; heldIn: boolean }>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const conn = { client, upstream, held: false, heldIn: false };
    open.add(conn);
    client.on('data', (b) => { if (!conn.heldIn) upstream.write(b); });
    upstream.on('data', (b) => { if (!conn.held) client.write(b); });
    const end = () => { client.destroy(); upstream.destroy(); open.delete(conn); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(r)));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    withhold: (requests = false) => { for (const c of open) { c.held = true; c.heldIn = requests; } },
    drop: () => { for (const c of [...open]) if (c.held) { c.client.destroy(); c.upstream.destroy(); open.delete(c); } },
  };
}

const put = (key: string, value: string) => ({ type: 'put' as const, key, value: Buffer.from(value) });

test('a create whose answer was lost is not resent once another client deleted what it created', { timeout: 60_000 }, async () => {
  cluster = await startEtcd(1);
  const proxy = await lossyProxy(new URL(cluster.endpoints[0]));
  const writer = new EtcdStore({ endpoints: [proxy.url], prefix: '/settle/' });
  const other = new EtcdStore({ endpoints: [cluster.endpoints[0]], prefix: '/settle/' });
  closers.push(() => writer.close(), () => other.close());
  await writer.open();
  await other.open();
  await writer.txn({ success: [put('warm', 'x')] });

  proxy.withhold();
  const create = writer.txn({ compares: [{ key: 'k', target: 'createRevision', op: '=', value: 0 }], success: [put('k', 'v1')] })
    .then(() => null, (err: unknown) => err);
  // etcd applied it; its answer is held back. Another client deletes the key, then the answer is lost.
  const created = await until('the first copy applied', 10_000, async () => (await other.get('k')) ?? undefined, { every: 20 });
  assert.equal(created?.version, 1);
  await other.txn({ success: [{ type: 'delete', key: 'k' }] });
  proxy.drop();

  const err = await create;
  assert.ok(err instanceof Error, 'not acknowledged: a resend would have created the key a second time');
  assert.equal(errorResponse(err).status, 503, 'the outcome is unknown: 503');
  assert.equal(await other.get('k'), null, 'not created a second time');
});

test('a create whose answer was lost is resent when etcd never got it (other keys written meanwhile), not when it applied it', { timeout: 60_000 }, async () => {
  const c = cluster ?? (cluster = await startEtcd(1));
  const proxy = await lossyProxy(new URL(c.endpoints[0]));
  const writer = new EtcdStore({ endpoints: [proxy.url], prefix: '/settle2/' });
  const other = new EtcdStore({ endpoints: [c.endpoints[0]], prefix: '/settle2/' });
  closers.push(() => writer.close(), () => other.close());
  await writer.open();
  await other.open();
  await writer.txn({ success: [put('warm', 'x')] });

  // Never reached etcd: the history shows no write of the key, the resend is the answer.
  proxy.withhold(true);
  const lost = writer.txn({ compares: [{ key: 'b', target: 'createRevision', op: '=', value: 0 }], success: [put('b', 'v')] });
  await other.txn({ success: [put('unrelated', 'u')] });
  await new Promise((r) => setTimeout(r, 200));
  proxy.drop();
  const res = await lost;
  assert.equal(res.succeeded, true);
  const b = await other.get('b');
  assert.equal(b?.version, 1);
  assert.equal(b?.modRevision, res.revision);

  // Applied, answer lost: the resend loses its compare, the outcome stays unknown (503), one copy.
  proxy.withhold();
  const applied = writer.txn({ compares: [{ key: 'a', target: 'createRevision', op: '=', value: 0 }], success: [put('a', 'v')] })
    .then(() => null, (err: unknown) => err);
  await until('applied', 10_000, async () => (await other.get('a')) ?? undefined, { every: 20 });
  proxy.drop();
  assert.equal(errorResponse(await applied).status, 503);
  assert.equal((await other.get('a'))?.version, 1);
});
