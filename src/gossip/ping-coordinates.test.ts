// Coordinates through the probe path: a simulated pool whose links have known latencies learns
// coordinates from probe acks alone, and peers' last coordinates are cached from those acks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from './simulation.ts';
import { estimateRtt } from './coordinate.ts';
import type { Address } from './address.ts';

// Six hosts on a plane; one-way delay is half the Euclidean distance in ms plus a 0.5 ms link.
const POS: Record<string, [number, number]> = {
  '10.0.0.1': [0, 0], '10.0.0.2': [2, 1], '10.0.0.3': [30, 0], '10.0.0.4': [31, 3], '10.0.0.5': [10, 25], '10.0.0.6': [12, 24],
};
const rttMs = (a: string, b: string) => Math.hypot(POS[a][0] - POS[b][0], POS[a][1] - POS[b][1]) + 1;
const oneWay = (from: Address, to: Address) => rttMs(from.host, to.host) / 2;

test('probe acks carry coordinates; after ten minutes every estimated RTT is within 10% of its link', async () => {
  const sim = new Simulation({ seed: 5, latencyMs: oneWay });
  const hosts = Object.keys(POS);
  const nodes = [];
  for (const [i, host] of hosts.entries()) nodes.push(await sim.add(`n${i}`, {}, host));
  for (const n of nodes.slice(1)) await sim.joinNow(n, ['10.0.0.1:8301']);
  await sim.run(600_000, 50);
  let worst = 0;
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      const est = estimateRtt(nodes[i].gossip.coordinates!.local(), nodes[j].gossip.coordinates!.local()) * 1000;
      worst = Math.max(worst, Math.abs(est - rttMs(hosts[i], hosts[j])) / rttMs(hosts[i], hosts[j]));
    }
  }
  assert.ok(worst < 0.1, `worst relative error ${worst}`);
  // n0's nearest peer by estimate is n1 (2.2 ms away), its farthest n3 (31 ms).
  const c0 = nodes[0].gossip.coordinates!;
  const byDistance = nodes.slice(1).map((n) => n.name).sort((a, b) => estimateRtt(c0.local(), c0.cached(a)!) - estimateRtt(c0.local(), c0.cached(b)!));
  assert.equal(byDistance[0], 'n1');
  assert.equal(byDistance.at(-1), 'n3');
  assert.equal(c0.rejected, 0);
});

test('disableCoordinates: no Vivaldi client, and probing works without coordinates on acks', async () => {
  const sim = new Simulation({ seed: 2, base: { disableCoordinates: true } });
  const [a, b] = await sim.addMany(2);
  await sim.run(5_000);
  assert.equal(a.gossip.coordinates, null);
  assert.equal(sim.stateOf('node0', 'node1'), 'alive', 'probing still works');
  assert.equal(b.gossip.coordinates, null);
});

test('a member that leaves is forgotten; our own name answers with our coordinate', async () => {
  const sim = new Simulation({ seed: 3 });
  const [a, b] = await sim.addMany(2);
  await sim.run(10_000);
  const ca = a.gossip.coordinates!;
  assert.ok(ca.cached('node1'), 'node1 reported a coordinate on its acks');
  assert.deepEqual(ca.cached('node0'), ca.local());
  await sim.drive(b.gossip.leave());
  await sim.run(2_000);
  assert.equal(ca.cached('node1'), undefined);
});
