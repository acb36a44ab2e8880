// Coordinates end to end over real UDP on 127.0.0.1: an agent probes a gossip peer, its Vivaldi
// coordinate leaves the origin, the agent sends it and /v1/coordinate/nodes shows it; the
// datacenter view reads the server's coordinate from the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';
import { createGossip } from '../src/gossip/index.ts';
import { silentLogger } from '../src/log.ts';

const TIMINGS = { probeIntervalMs: 50, probeTimeoutMs: 40, suspicionMult: 4, retransmitMult: 4, gossipIntervalMs: 20, gossipNodes: 3 };

test('probe round trips move the agent\'s coordinate and the agent sends it to the store', async () => {
  const gossip = {
    bindAddr: '127.0.0.1', bindPort: 0, encrypt: '', encryptVerifyIncoming: true, encryptVerifyOutgoing: true,
    reconnectTimeoutMs: 3_600_000, rejoinAfterLeave: false, retryJoin: [], retryIntervalMs: 1000, retryMax: 0,
    leaveOnTerminate: false, skipLeaveOnInterrupt: true, timings: TIMINGS,
  };
  const raw = { sync_coordinate_interval_min: '100ms', consul: { coordinate: { update_period: '20ms' } } };
  const dev = await startDevAgent({ config: { gossip, raw } });
  const peer = createGossip({ name: 'peer', bindAddr: '127.0.0.1', bindPort: 0, ...TIMINGS }, { logger: silentLogger() });
  try {
    await peer.start();
    const me = dev.agent.pool.localMember();
    await peer.join([`${me.addr}:${me.port}`]);
    let entry: any;
    for (let i = 0; i < 300 && !entry; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const res = await fetch(`http://${dev.httpAddr}/v1/coordinate/nodes`);
      entry = ((await res.json()) as any[]).find((e) => e.Node === 'test-node' && e.Coord.Error < 1.5);
    }
    assert.ok(entry, 'the agent reported a coordinate refined by probes');
    assert.equal(entry.Coord.Vec.length, 8);
    assert.ok(dev.agent.pool.gossip!.coordinates!.cached('peer'), 'the peer\'s coordinate came back on its acks');
    const dcs = await (await fetch(`http://${dev.httpAddr}/v1/coordinate/datacenters`)).json() as any[];
    assert.deepEqual(dcs[0].Coordinates.map((e: any) => e.Node), ['test-node']);
  } finally {
    await peer.shutdown();
    await dev.stop();
  }
});
