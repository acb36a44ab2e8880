// Stream status shared through the store by two servers of one datacenter (one memory store, a
// replica each): the holder's connect is answered ACTIVE by the other server, message times are
// published only by the refresh (not per message), and a record whose holder's lease is gone is
// answered FAILING, not ACTIVE.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { Replica } from '../state/index.ts';
import { MemoryStore, type Store } from '../store/index.ts';
import { soloLeadership, type EndpointDeps } from './deps.ts';
import { defaultQueryOptions } from './query.ts';
import { PeeringEndpoint } from './peering.ts';
import { PeeringTracker } from './peering-tracker.ts';
import { STATUS_REFRESH_MS } from './peering-status.ts';

/** Registered servers: node → lease. */
const leases = new Map<string, number>();

async function server(store: Store, clock: ManualClock, node: string) {
  const logger = silentLogger();
  const replica = new Replica({ store, clock, logger });
  await replica.start();
  const deps: EndpointDeps = {
    store, replica, clock, logger, leadership: soloLeadership('127.0.0.1:8300'), random: Math.random,
    config: { datacenter: 'dc1', nodeName: node, kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, defaultQueryTime: 300_000, maxQueryTime: 600_000, sessionTtlMin: 10_000 },
  };
  const tracker = new PeeringTracker(clock);
  const peering = new PeeringEndpoint(deps, {
    tracker, serverAddresses: () => ['127.0.0.1:8500'], caPems: () => null, exchange: () => Promise.reject(new Error('no dialing')),
    holders: { self: () => ({ Node: node, Lease: leases.get(node) ?? 0 }), live: (n, lease) => leases.get(n) === lease },
  });
  const read = async (name: string) => (await peering.read(name, defaultQueryOptions())).value;
  return { replica, peering, tracker, read };
}

/** Lets the publisher's writes and the replicas' watches run. */
const settle = () => sleep(30);

test('the other server answers the holder\'s stream; times are published by the refresh; a dead holder reads FAILING', async () => {
  const clock = new ManualClock(Date.parse('2026-01-02T03:04:05.678Z'));
  const store = new MemoryStore({ clock });
  await store.open();
  leases.set('n1', 11).set('n2', 22);
  const n1 = await server(store, clock, 'n1');
  const n2 = await server(store, clock, 'n2');
  try {
    await n1.peering.generateToken({ PeerName: 'west' });
    await settle();
    const id = (await n2.read('west')).ID;
    assert.equal((await n2.read('west')).State, 'PENDING');

    n1.tracker.connected(id);
    n1.tracker.received(id, true);
    n1.tracker.setImported(id, ['web']);
    await settle();
    let p = await n2.read('west');
    assert.equal(p.State, 'ACTIVE');
    assert.deepEqual(p.StreamStatus.ImportedServices, ['web']);
    assert.equal(p.StreamStatus.LastHeartbeat, '2026-01-02T03:04:05.678Z');

    // Heartbeats write nothing until the refresh.
    const before = await store.currentRevision();
    for (let i = 0; i < 50; i++) {
      clock.advance(1000);
      n1.tracker.received(id, true);
      n1.tracker.sent(id);
    }
    await settle();
    assert.equal(await store.currentRevision(), before, 'no write per message');
    clock.advance(STATUS_REFRESH_MS);
    await settle();
    assert.equal(await store.currentRevision(), before + 1, 'one write by the refresh');
    p = await n2.read('west');
    assert.equal(p.StreamStatus.LastHeartbeat, new Date(clock.now() - STATUS_REFRESH_MS).toISOString());

    // The holder dies (its lease is gone): its record no longer reads ACTIVE.
    leases.delete('n1');
    p = await n2.read('west');
    assert.equal(p.State, 'FAILING');
    assert.deepEqual(p.StreamStatus.ImportedServices, ['web']);

    // The other server's redials failing write once (the first disconnect), not once per attempt.
    const beforeRedials = await store.currentRevision();
    for (let i = 0; i < 5; i++) n2.tracker.disconnected(id, `dial ${i} refused`);
    await settle();
    assert.equal(await store.currentRevision(), beforeRedials + 1);
    assert.equal((await n2.read('west')).State, 'FAILING');
    // It then holds the stream: ACTIVE on both, the dead holder's record outweighed.
    n2.tracker.connected(id);
    await settle();
    assert.equal((await n2.read('west')).State, 'ACTIVE');
    assert.equal((await n1.read('west')).State, 'ACTIVE');

    // Removal takes every server's record.
    await n1.peering.delete('west');
    await n1.peering.remove(id);
    await settle();
    assert.deepEqual(n2.replica.peeringStatus.ofPeering(id), []);
  } finally {
    n1.replica.stop();
    n2.replica.stop();
  }
});
