// Vivaldi client on simulated networks with known latencies: coordinates converge so that
// estimated RTTs match the truth within tolerance; edge cases match Serf's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VivaldiClient, estimateRtt, newCoordinate, coordinateValid, type Coordinate } from './coordinate.ts';
import { seededRandom } from './random.ts';

// Each node probes one random peer per cycle and folds the true RTT in, as SWIM probing does.
function simulate(truth: number[][], cycles: number, seed = 1): VivaldiClient[] {
  const random = seededRandom(seed);
  const clients = truth.map((_, i) => new VivaldiClient(undefined, seededRandom(seed * 31 + i)));
  for (let c = 0; c < cycles; c++) {
    for (let i = 0; i < clients.length; i++) {
      let j = Math.floor(random() * (clients.length - 1));
      if (j >= i) j++;
      clients[i].update(`n${j}`, clients[j].coordinate(), truth[i][j]);
    }
  }
  return clients;
}

// Mean and worst relative error of estimated against true RTT over every pair.
function evaluate(clients: VivaldiClient[], truth: number[][]): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  let n = 0;
  for (let i = 0; i < clients.length; i++) {
    for (let j = i + 1; j < clients.length; j++) {
      const est = estimateRtt(clients[i].coordinate(), clients[j].coordinate());
      const err = Math.abs(est - truth[i][j]) / truth[i][j];
      sum += err;
      max = Math.max(max, err);
      n++;
    }
  }
  return { mean: sum / n, max };
}

function matrix(n: number, rtt: (i: number, j: number) => number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : rtt(i, j))));
}

test('a 5x5 grid with 10 ms spacing converges to within 1% on average', () => {
  const pos = Array.from({ length: 25 }, (_, i) => [(i % 5) * 0.010, Math.floor(i / 5) * 0.010]);
  const truth = matrix(25, (i, j) => Math.hypot(pos[i][0] - pos[j][0], pos[i][1] - pos[j][1]));
  const clients = simulate(truth, 1000);
  const { mean, max } = evaluate(clients, truth);
  assert.ok(mean < 0.01, `mean relative error ${mean}`);
  assert.ok(max < 0.05, `max relative error ${max}`);
  assert.ok(clients.every((c) => c.coordinate().Error < 0.05), 'confidence grows as estimates improve');
});

test('access-link delays are learned as heights (core distance plus each end\'s link)', () => {
  const random = seededRandom(11);
  const pos = Array.from({ length: 16 }, () => [random() * 0.010, random() * 0.010]);
  const link = Array.from({ length: 16 }, (_, i) => 0.001 + (i % 4) * 0.002);
  const truth = matrix(16, (i, j) => Math.hypot(pos[i][0] - pos[j][0], pos[i][1] - pos[j][1]) + link[i] + link[j]);
  const clients = simulate(truth, 1000, 7);
  const { mean } = evaluate(clients, truth);
  assert.ok(mean < 0.05, `mean relative error ${mean}`);
  const heights = clients.map((c) => c.coordinate().Height);
  const avg = (k: number) => heights.filter((_, i) => i % 4 === k).reduce((s, h) => s + h, 0) / 4;
  assert.ok(avg(3) > avg(0) + 0.002, `7 ms links (${avg(3)}) sit higher than 1 ms links (${avg(0)})`);
});

test('two sites 50 ms apart with 1 ms inside each: nearest is always the local site', () => {
  const site = (i: number) => (i < 8 ? 0 : 1);
  const truth = matrix(16, (i, j) => (site(i) === site(j) ? 0.001 : 0.050));
  const clients = simulate(truth, 1000, 3);
  for (let i = 0; i < 16; i++) {
    const byEstimate = [...Array(16).keys()].filter((j) => j !== i)
      .sort((a, b) => estimateRtt(clients[i].coordinate(), clients[a].coordinate()) - estimateRtt(clients[i].coordinate(), clients[b].coordinate()));
    assert.ok(byEstimate.slice(0, 7).every((j) => site(j) === site(i)), `node ${i} ranks its own site first`);
  }
  const far = estimateRtt(clients[0].coordinate(), clients[15].coordinate());
  assert.ok(Math.abs(far - 0.050) / 0.050 < 0.1, `cross-site estimate ${far}`);
});

test('the latency filter uses the median of the last three samples from a peer', () => {
  const a = new VivaldiClient(undefined, seededRandom(1));
  const peer = newCoordinate();
  const trace: Coordinate[] = [];
  for (const rtt of [0.010, 0.010, 5.0]) trace.push(a.update('b', peer, rtt));
  // A single 5 s spike is ignored: the third update sees the median 10 ms again.
  const before = estimateRtt(trace[1], peer);
  const after = estimateRtt(trace[2], peer);
  assert.ok(after < before * 2, `spike moved the estimate from ${before} to ${after}`);
  a.forget('b');
  const spiked = a.update('b', peer, 5.0);
  assert.ok(estimateRtt(spiked, peer) > after, 'after forget() the spike is the only sample');
});

test('Serf\'s rules: invalid, incompatible and out-of-range observations are refused', () => {
  const a = new VivaldiClient();
  assert.throws(() => a.update('b', { ...newCoordinate(), Error: Number.NaN }, 0.01), /invalid/);
  assert.throws(() => a.update('b', { ...newCoordinate(), Vec: [0, 0] }, 0.01), /compatible/);
  assert.throws(() => a.update('b', newCoordinate(), 11), /valid range/);
  assert.throws(() => a.update('b', newCoordinate(), -1), /valid range/);
  assert.doesNotThrow(() => a.update('b', newCoordinate(), 0));
  assert.equal(coordinateValid({ Vec: [1, 'x'], Error: 1, Adjustment: 0, Height: 0 }), false);
});

test('estimateRtt: Euclidean distance plus both heights plus both adjustments, unless negative', () => {
  const a: Coordinate = { Vec: [0.003, 0, 0, 0, 0, 0, 0, 0], Error: 0.1, Adjustment: 0.0005, Height: 0.001 };
  const b: Coordinate = { Vec: [0, 0.004, 0, 0, 0, 0, 0, 0], Error: 0.1, Adjustment: -0.0002, Height: 0.002 };
  assert.equal(estimateRtt(a, b), 0.0083);
  const neg = { ...b, Adjustment: -1 };
  assert.equal(estimateRtt(a, neg), 0.008, 'a negative total falls back to the raw distance');
  assert.throws(() => estimateRtt(a, { ...b, Vec: [0] }), /dimensionality/);
});
