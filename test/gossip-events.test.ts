// User events over the simulated network: Lamport-ordered, delivered to every node exactly
// once despite loss, old events not replayed to joiners, coalescing, size limit; and the
// peer snapshot that lets a restarted node rejoin by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulation } from '../src/gossip/simulation.ts';
import type { UserEvent } from '../src/gossip/index.ts';

const userEvents = (sim: Simulation, node: string): UserEvent[] =>
  sim.nodes.get(node)!.events.flatMap((e) => (e.type === 'user' ? [e.event] : []));

test('user events reach every node exactly once at 10% packet loss', async () => {
  const sim = new Simulation({ seed: 11 });
  await sim.addMany(10);
  await sim.until(() => sim.converged(), 10_000);
  sim.net.setLoss(0.1);
  for (let i = 0; i < 10; i++) {
    sim.nodes.get(`node${i}`)!.gossip.userEvent('deploy', `v${i}`);
    await sim.run(100);
  }
  await sim.run(40_000, 20);
  for (const n of sim.nodes.keys()) {
    const got = userEvents(sim, n).map((e) => e.payload.toString()).sort();
    assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `v${i}`).sort(), n);
  }
  // Lamport order: an event fired after seeing the others carries a later time than all of them.
  sim.net.setLoss(0);
  sim.nodes.get('node0')!.gossip.userEvent('deploy', 'last');
  const times = userEvents(sim, 'node0').map((e) => e.ltime);
  assert.equal(Math.max(...times), times.at(-1));
  assert.ok(times.slice(0, -1).every((t) => t < times.at(-1)!));
});

test('a node joining later is not replayed old events but receives new ones', async () => {
  const sim = new Simulation({ seed: 12 });
  await sim.addMany(4);
  await sim.until(() => sim.converged(), 10_000);
  sim.nodes.get('node1')!.gossip.userEvent('old', 'x');
  await sim.run(5_000);
  const late = await sim.add('late');
  await sim.joinNow(late, ['10.0.0.2:8301']);
  await sim.run(35_000);
  assert.deepEqual(userEvents(sim, 'late'), [], 'old event not delivered');
  sim.nodes.get('node2')!.gossip.userEvent('new', 'y');
  await sim.run(5_000);
  assert.deepEqual(userEvents(sim, 'late').map((e) => e.name), ['new']);
  assert.ok(late.gossip.eventClock() > 1);
});

test('coalescing delivers only the newest event per name after a quiet period', async () => {
  const sim = new Simulation({ seed: 13, base: { coalesce: { periodMs: 5_000, quiescentMs: 500 } } });
  await sim.addMany(3);
  await sim.until(() => sim.converged(), 10_000);
  const g = sim.nodes.get('node0')!.gossip;
  for (const v of ['1', '2', '3']) g.userEvent('config', v, true);
  g.userEvent('plain', 'p');
  await sim.run(3_000);
  for (const n of sim.nodes.keys()) {
    const got = userEvents(sim, n).map((e) => `${e.name}=${e.payload}`).sort();
    assert.deepEqual(got, ['config=3', 'plain=p'], n);
  }
});

test('an event over the size limit is refused with Serf\'s message', async () => {
  const sim = new Simulation({ seed: 14 });
  const [n] = await sim.addMany(1);
  assert.throws(() => n.gossip.userEvent('big', Buffer.alloc(600)), /user event exceeds configured limit of 512 bytes/);
});

test('a restarted node rejoins its previous peers from the snapshot in its data dir', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-snap-'));
  try {
    const sim = new Simulation({ seed: 15 });
    await sim.addMany(4);
    const addr = '10.0.9.9';
    const n = await sim.add('phoenix', { dataDir: dir }, addr);
    await sim.joinNow(n, ['10.0.0.2:8301']);
    await sim.until(() => sim.converged(), 10_000);
    await sim.run(1_000);
    await sim.kill('phoenix');
    await sim.until(() => sim.stateOf('node0', 'phoenix') === 'dead', 40_000);
    const snap = JSON.parse(fs.readFileSync(path.join(dir, 'local.snapshot'), 'utf8')) as { peers: unknown[] };
    assert.equal(snap.peers.length, 4);
    await sim.add('phoenix', { dataDir: dir }, addr);
    const back = await sim.until(() => sim.converged(), 20_000);
    assert.ok(back >= 0, 'rejoined without an explicit join');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('after a graceful leave the snapshot does not rejoin unless rejoinAfterLeave', async () => {
  for (const rejoinAfterLeave of [false, true]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-snap-'));
    try {
      const sim = new Simulation({ seed: 16 });
      await sim.addMany(3);
      const n = await sim.add('quitter', { dataDir: dir }, '10.0.9.8');
      await sim.joinNow(n, ['10.0.0.2:8301']);
      await sim.until(() => sim.converged(), 10_000);
      await sim.drive(n.gossip.leave());
      await sim.kill('quitter');
      const again = await sim.add('quitter', { dataDir: dir, rejoinAfterLeave }, '10.0.9.8');
      await sim.run(5_000);
      const alive = again.gossip.members().filter((m) => m.state === 'alive').length;
      assert.equal(alive, rejoinAfterLeave ? 4 : 1, `rejoinAfterLeave=${rejoinAfterLeave}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
