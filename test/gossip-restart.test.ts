// Restarting after a crash (kill -9) with only the peer snapshot in the data dir: the node must
// find its pool again by itself, however soon after joining it crashed. A crash is simulated by
// copying the data dir as it is on disk at that instant (nothing written after it survives).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Simulation } from '../src/gossip/simulation.ts';

const alivePeers = (sim: Simulation, name: string) =>
  sim.nodes.get(name)!.gossip.members().filter((m) => m.state === 'alive' && m.name !== name).map((m) => m.name).sort();

/** The peer names in the snapshot under `dir`, or undefined when there is none. */
function peersIn(dir: string): string[] | undefined {
  const file = path.join(dir, 'local.snapshot');
  if (!fs.existsSync(file)) return undefined;
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { peers: { name: string }[] }).peers.map((p) => p.name);
}

/** Kills `name` the way kill -9 does: its data dir is frozen as it is now, then the node is gone. */
async function crash(sim: Simulation, name: string, dataDir: string, into: string): Promise<void> {
  if (fs.existsSync(dataDir)) fs.cpSync(dataDir, into, { recursive: true });
  else fs.mkdirSync(into, { recursive: true });
  await sim.kill(name);
}

test('a node crashed right after joining rejoins from its snapshot alone, five times in a row', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-restart-'));
  try {
    const sim = new Simulation({ seed: 21 });
    await sim.addMany(3);
    await sim.until(() => sim.converged(), 10_000);
    let dir = path.join(root, 'gen0');
    const n = await sim.add('phoenix', { dataDir: dir }, '10.0.9.1');
    await sim.joinNow(n, ['10.0.0.2:8301']);
    for (let gen = 1; gen <= 5; gen++) {
      // No time passes between the join (or the previous rejoin) and the crash.
      const next = path.join(root, `gen${gen}`);
      await crash(sim, 'phoenix', dir, next);
      dir = next;
      assert.ok((peersIn(dir)?.length ?? 0) > 0, `generation ${gen}: the snapshot on disk names a peer`);
      await sim.add('phoenix', { dataDir: dir }, '10.0.9.1');
      const took = await sim.until(() => alivePeers(sim, 'phoenix').length === 3, 5_000);
      assert.ok(took >= 0, `generation ${gen}: rejoined (sees ${alivePeers(sim, 'phoenix').join(',') || 'nobody'})`);
    }
    assert.ok((await sim.until(() => sim.converged(), 30_000)) >= 0, 'every node sees phoenix alive again');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a failed rejoin keeps the previous peers in the snapshot for the next start', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-restart-'));
  try {
    const sim = new Simulation({ seed: 22 });
    const [seed] = await sim.addMany(2);
    const dir = path.join(root, 'a');
    const n = await sim.add('phoenix', { dataDir: dir }, '10.0.9.2');
    await sim.joinNow(n, [`${seed.gossip.localMember().addr}:8301`]);
    await sim.until(() => sim.converged(), 10_000);
    await sim.kill('phoenix');
    // The whole pool is down when phoenix comes back: its rejoin fails, then it stops again.
    await sim.kill('node0');
    await sim.kill('node1');
    const again = await sim.add('phoenix', { dataDir: dir }, '10.0.9.2');
    await sim.run(12_000);
    await sim.drive(again.gossip.shutdown());
    assert.deepEqual(peersIn(dir)?.sort(), ['node0', 'node1']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
