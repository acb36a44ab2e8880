// The etcd store on one member without auth talks gRPC over its own HTTP/2 session (grpc-channel.ts,
// grpc-stream.ts) instead of grpc-js. Killing and restarting that member must cost no acknowledged
// write and no watch event: calls to the dead member fail as never sent (held, then 'No cluster
// leader'), the session and the watch stream reconnect, and the watch resumes after the last
// revision it delivered, in order, once each. Against a fake member, its failures read as grpc-js's did.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type net from 'node:net';
import { test } from 'node:test';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import { isUnavailable, notProposed } from '../src/store/etcd/errors.ts';
import { notSent } from '../src/store/etcd/faults.ts';
import { GrpcChannel } from '../src/store/etcd/grpc-channel.ts';
import type { WatchBatch } from '../src/store/store.ts';
import { startEtcd } from './support/etcd.ts';
import { waitFor } from './support/wait.ts';

test('one member killed and restarted: writes are refused unsent while it is down, then resume; the watch loses and repeats nothing', { timeout: 60_000 }, async () => {
  const etcd = await startEtcd(1);
  const store = new EtcdStore({ endpoints: etcd.endpoints, prefix: '/channel/', hold: { holdMs: 300 } });
  try {
    await store.open();
    const batches: WatchBatch[] = [];
    const errors: Error[] = [];
    const w = store.watch(0, { onBatch: (b) => batches.push(b), onError: (e) => errors.push(e) });
    const acked = new Map<string, number>();
    const create = async (key: string) => {
      const res = await store.txn({ compares: [{ key, target: 'version', op: '=', value: 0 }], success: [{ type: 'put', key, value: Buffer.from(key) }] });
      assert.ok(res.succeeded);
      acked.set(key, res.revision);
    };
    for (let i = 0; i < 20; i++) await create(`a/${i}`);
    await waitFor('the watch to deliver the first writes', () => batches.length === 20);

    await etcd.kill(0);
    // A read is held and sent again whatever failed (the first may still go out on the dying
    // connection, its outcome unknown); by the end of the hold connections are refused, so a
    // write is refused unsent too.
    await assert.rejects(store.currentRevision(), /No cluster leader/);
    await assert.rejects(create('down'), /No cluster leader/);

    await etcd.restart(0);
    for (let i = 0; i < 20; i++) await create(`b/${i}`);
    const last = Math.max(...acked.values());
    await waitFor('the watch to resume and deliver every write', () => (batches.at(-1)?.revision ?? 0) >= last, { ms: 20_000 });
    w.cancel();
    assert.deepEqual(errors, []);
    const delivered = batches.flatMap((b) => b.events.map((e) => [e.kv.key, b.revision] as const));
    assert.deepEqual(delivered, [...acked].sort((x, y) => x[1] - y[1]));
    assert.equal(await store.get('down'), null);
    assert.equal(await store.currentRevision(), last);
  } finally {
    await store.close();
    await etcd.stop();
  }
});

/** An HTTP/2 server on loopback standing in for etcd; `answer` handles each stream. */
async function fakeEtcd(answer: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void) {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  server.on('stream', answer);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    dropAll: () => { for (const s of sessions) s.destroy(); },
    close: () => { for (const s of sessions) s.destroy(); return new Promise((r) => server.close(r)); },
  };
}

test('failures read as grpc-js reported them: etcd statuses, deadlines, refused and dropped connections', { timeout: 30_000 }, async () => {
  let mode = 'no leader';
  const held: http2.ServerHttp2Stream[] = [];
  const seen: http2.IncomingHttpHeaders[] = [];
  const fake = await fakeEtcd((stream, headers) => {
    seen.push(headers);
    stream.on('error', () => undefined);
    if (mode === 'no leader') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'etcdserver: no leader' }, { endStream: true });
    } else held.push(stream); // never answers
  });
  const channel = new GrpcChannel(fake.url, { timeoutMs: 300 });
  const frame = Buffer.from([0, 0, 0, 0, 0]);
  try {
    const refused = await channel.call('/etcdserverpb.KV/Txn', frame).catch((e: Error) => e);
    assert.ok(refused instanceof Error);
    assert.match(refused.message, /^14 UNAVAILABLE: etcdserver: no leader$/);
    assert.equal(notProposed(refused), true, 'refused before proposal: may be sent again');
    assert.equal(seen[0].hasleader, 'true');
    assert.equal(seen[0]['grpc-timeout'], '300m');

    mode = 'silent';
    const late = await channel.call('/etcdserverpb.KV/Txn', frame).catch((e: Error) => e);
    assert.ok(late instanceof Error && /DEADLINE_EXCEEDED/.test(late.message));
    assert.equal(isUnavailable(late), true);
    assert.equal(notProposed(late), false, 'a deadline leaves the outcome unknown');

    const dropped = channel.call('/etcdserverpb.KV/Txn', frame).catch((e: Error) => e);
    await waitFor('the call to reach the server', () => held.length === 2);
    fake.dropAll();
    const err = await dropped;
    assert.ok(err instanceof Error && /Connection dropped/.test(err.message), String(err));
    assert.equal(isUnavailable(err), true);
    assert.equal(notSent(err), false, 'sent: its outcome is unknown');
  } finally {
    channel.close();
    await fake.close();
  }
  // Nothing listens there any more: the call was never sent.
  const gone = new GrpcChannel(fake.url, { timeoutMs: 300 });
  const err = await gone.call('/etcdserverpb.KV/Txn', frame).catch((e: Error) => e);
  gone.close();
  assert.ok(err instanceof Error && /No connection established.*ECONNREFUSED/.test(err.message), String(err));
  assert.equal(notSent(err), true);
  assert.equal(notProposed(err), true);
});
