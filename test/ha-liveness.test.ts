// Leader liveness on real loopback sockets (src/leader/liveness.ts): a follower's probe proves a
// leader process dead only when its server port refuses a connection after having greeted it
// with the lease; a dropped connection to a live leader, a listener that greets with another
// lease or not at all, a greeting withdrawn before the port closes, and a refusal never preceded
// by a greeting prove nothing. The greeting is served by the internal RPC listener (ports.server,
// here port 0) or, where there is none, by an election's own listener. With elections on a shared
// store and a 60 s lease TTL (so nothing expires during the test), a follower that loses its
// connection to a live leader revokes nothing, and one whose leader's listener is gone revokes
// the lease so the election proceeds at once.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { systemClock } from '../src/clock.ts';
import { silentLogger } from '../src/log.ts';
import { StoreElection } from '../src/leader/election.ts';
import { LeaderProbe, LivenessGreeter, LivenessListener, livenessAddress } from '../src/leader/liveness.ts';
import { MemoryStore } from '../src/store/index.ts';
import { Router } from '../src/http/index.ts';
import { createRpcServer } from '../src/agent/rpc-server.ts';
import type { RuntimeConfig } from '../src/agent/config/runtime.ts';
import { waitFor } from './support/wait.ts';

const logger = silentLogger();
const cleanup: (() => unknown)[] = [];
after(async () => { for (const fn of cleanup.reverse()) await fn(); });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listener(lease: number): Promise<{ l: LivenessListener; address: string }> {
  const l = new LivenessListener({ bindAddr: '127.0.0.1', advertiseAddr: '127.0.0.1', logger });
  const address = await l.listen('n1', () => lease);
  cleanup.push(() => l.close());
  return { l, address };
}

function probe(): { p: LeaderProbe; dead: number[] } {
  const dead: number[] = [];
  const p = new LeaderProbe({ clock: systemClock, logger, onDead: (lease) => dead.push(lease), retryMs: 50 });
  cleanup.push(() => p.stop());
  return { p, dead };
}

test('probe: connections dropped by a live leader are re-established and prove nothing; a refused port after a greeting proves death once', async () => {
  const { l, address } = await listener(7);
  const { p, dead } = probe();
  p.follow({ address, lease: 7 });
  await waitFor('verified', () => p.verified() && l.connections() === 1, { every: 10 });
  for (let i = 0; i < 5; i++) {
    l.dropConnections();
    await pause(50);
    await waitFor('reconnected', () => l.connections() === 1, { every: 10 });
  }
  assert.deepEqual(dead, []);
  await l.close();
  await waitFor('death reported', () => dead.length > 0, { every: 10 });
  await pause(200);
  assert.deepEqual(dead, [7]);
});

test('probe: a greeting with another lease, no greeting, or a refusal never preceded by a greeting proves nothing', async () => {
  const other = await listener(8);
  const { p, dead } = probe();
  p.follow({ address: other.address, lease: 7 });
  await pause(300);
  assert.equal(p.verified(), false);
  await other.l.close();
  await pause(300);

  const muted = new Set<net.Socket>();
  const mute = net.createServer((s) => { muted.add(s); s.on('error', () => undefined); });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  const muteAddr = `127.0.0.1:${(mute.address() as net.AddressInfo).port}`;
  p.follow({ address: muteAddr, lease: 7 });
  await pause(300);
  assert.equal(p.verified(), false);
  await new Promise((r) => { mute.close(r); for (const s of muted) s.destroy(); });

  const closedPort = await new Promise<number>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const port = (s.address() as net.AddressInfo).port; s.close(() => r(port)); }); });
  p.follow({ address: `127.0.0.1:${closedPort}`, lease: 7 });
  await pause(300);
  assert.deepEqual(dead, []);
});

/** Two servers electing on one memory store with a 60 s TTL and their own liveness listeners. */
async function pair(): Promise<{ store: MemoryStore; a: StoreElection; b: StoreElection; la: LivenessListener }> {
  const store = new MemoryStore();
  const mk = (node: string, liveness: LivenessListener) => new StoreElection({
    store, clock: systemClock, logger, ttlSeconds: 60, liveness, replica: { appliedRevision: 0, lastContact: 0 },
    self: { ID: `${node}-id`, Node: node, Address: `127.0.0.1:${node === 'a' ? 8300 : 8301}`, Version: '1.21.0', Tags: {}, ReadReplica: false },
  });
  const la = new LivenessListener({ bindAddr: '127.0.0.1', advertiseAddr: '127.0.0.1', logger });
  const lb = new LivenessListener({ bindAddr: '127.0.0.1', advertiseAddr: '127.0.0.1', logger });
  const a = mk('a', la);
  await a.start();
  const b = mk('b', lb);
  await b.start();
  cleanup.push(() => b.stop(), () => a.stop(), () => store.close());
  await waitFor('a leads and b follows it', () => a.isLeader() && b.leader()?.Node === 'a' && la.connections() === 1, { every: 10 });
  return { store, a, b, la };
}

test('election: a follower whose connection to a live leader drops does not revoke its lease', async () => {
  const { store, a, b, la } = await pair();
  const lease = a.self().Lease;
  for (let i = 0; i < 5; i++) {
    la.dropConnections();
    await pause(50);
    await waitFor('b reconnected', () => la.connections() === 1, { every: 10 });
  }
  await pause(300);
  await store.leaseKeepAlive(lease);
  assert.equal(a.isLeader(), true);
  assert.equal(b.isLeader(), false);
  assert.equal(b.leader()?.Lease, lease);
  assert.equal(b.servers().length, 2);
});

test('election: a leader whose liveness listener is gone loses its lease to the follower at once (no TTL wait)', async () => {
  const { store, a, b, la } = await pair();
  const lease = a.self().Lease;
  await la.close();
  await waitFor('b leads', () => b.isLeader(), { every: 10 });
  await assert.rejects(store.leaseKeepAlive(lease), { code: 'not_found' });
  await waitFor('a stepped down', () => !a.isLeader(), { every: 10 });
  assert.equal(a.leader()?.Node, 'b');
});

/** An internal RPC listener on an ephemeral server port, greeting through `greeter` when given. */
async function rpcServer(greeter?: LivenessGreeter): Promise<{ close(): Promise<void>; address: string }> {
  const config = { bindAddr: '127.0.0.1', ports: { server: 0 }, acl: { defaultPolicy: 'allow' } } as unknown as RuntimeConfig;
  const dns = { handle: async () => null };
  const rpc = createRpcServer({ config, router: new Router(), dns, dnsFor: () => dns, logger, liveness: greeter && (() => greeter.answer()) });
  await rpc.listenRpc();
  cleanup.push(() => rpc.close());
  return { close: () => rpc.close(), address: rpc.addresses()[0] };
}

test('server port: the RPC listener greets with the election\'s lease at its bound address; dropped answers prove nothing; a refusal after the greeting proves death once', async () => {
  let port = 0;
  const greeter = new LivenessGreeter(() => livenessAddress('127.0.0.1', port));
  const rpc = await rpcServer(greeter);
  port = Number(rpc.address.split(':')[1]);
  const address = await greeter.listen('n1', () => 7);
  assert.equal(address, rpc.address);
  const { p, dead } = probe();
  p.follow({ address, lease: 7 });
  await waitFor('verified', () => p.verified() && greeter.connections() === 1, { every: 10 });
  for (let i = 0; i < 5; i++) {
    greeter.dropConnections();
    await pause(50);
    await waitFor('reconnected', () => greeter.connections() === 1, { every: 10 });
  }
  assert.deepEqual(dead, []);
  await rpc.close();
  await waitFor('death reported', () => dead.length > 0, { every: 10 });
  await pause(200);
  assert.deepEqual(dead, [7]);
});

test('server port: an RPC listener without a greeting (no election there, or none yet) proves nothing when it refuses', async () => {
  for (const greeter of [undefined, new LivenessGreeter(() => '')]) {
    const rpc = await rpcServer(greeter);
    const { p, dead } = probe();
    p.follow({ address: rpc.address, lease: 7 });
    await pause(300);
    assert.equal(p.verified(), false);
    await rpc.close();
    await pause(300);
    assert.deepEqual(dead, []);
    p.stop();
  }
});

test('server port: a greeting withdrawn before the port closes (the election stopped first, as the agent does) proves nothing', async () => {
  let port = 0;
  const greeter = new LivenessGreeter(() => livenessAddress('127.0.0.1', port));
  const rpc = await rpcServer(greeter);
  port = Number(rpc.address.split(':')[1]);
  const { p, dead } = probe();
  p.follow({ address: await greeter.listen('n1', () => 7), lease: 7 });
  await waitFor('verified', () => p.verified() && greeter.connections() === 1, { every: 10 });
  await greeter.close();
  await waitFor('the probe saw the greeting withdrawn', () => !p.verified(), { every: 10 });
  await rpc.close();
  await pause(300);
  assert.deepEqual(dead, []);
});

test('election: a leader greeting on its RPC listener loses its lease at once when that listener is gone; a dropped answer revokes nothing', async () => {
  const store = new MemoryStore();
  const servers = await Promise.all(['a', 'b'].map(async (node) => {
    let port = 0;
    const greeter = new LivenessGreeter(() => livenessAddress('127.0.0.1', port));
    const rpc = await rpcServer(greeter);
    port = Number(rpc.address.split(':')[1]);
    const e = new StoreElection({
      store, clock: systemClock, logger, ttlSeconds: 60, liveness: greeter, replica: { appliedRevision: 0, lastContact: 0 },
      self: { ID: `${node}-id`, Node: node, Address: rpc.address, Version: '1.21.0', Tags: {}, ReadReplica: false },
    });
    return { e, greeter, rpc };
  }));
  const [a, b] = servers;
  await a.e.start();
  await b.e.start();
  cleanup.push(() => b.e.stop(), () => a.e.stop(), () => store.close());
  await waitFor('a leads and b follows it', () => a.e.isLeader() && b.e.leader()?.Node === 'a' && a.greeter.connections() === 1, { every: 10 });
  assert.equal(b.e.leader()?.Liveness, a.rpc.address);
  const lease = a.e.self().Lease;
  a.greeter.dropConnections();
  await waitFor('b reconnected', () => a.greeter.connections() === 1, { every: 10 });
  await pause(200);
  await store.leaseKeepAlive(lease);
  assert.equal(b.e.leader()?.Lease, lease);
  await a.rpc.close();
  await waitFor('b leads', () => b.e.isLeader(), { every: 10 });
  await assert.rejects(store.leaseKeepAlive(lease), { code: 'not_found' });
});
