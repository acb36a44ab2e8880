// The 200-member acceptance simulation: default timings on a virtual clock with 5%
// packet loss; a killed member is failed everywhere within the suspicion bound, no healthy
// member is ever failed, and a user event reaches every member exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAN_DEFAULTS, suspicionTimeout } from '../src/gossip/index.ts';
import { Simulation } from '../src/gossip/simulation.ts';

test('200 members at 5% loss: convergence, bounded failure detection, no false failures, events once', async () => {
  const N = 200;
  const sim = new Simulation({ seed: 31 });
  await sim.addMany(N);
  assert.ok(await sim.until(() => sim.converged(), 120_000, 50) >= 0, 'converged');
  sim.net.setLoss(0.05);
  await sim.kill('node17');
  const d = LAN_DEFAULTS;
  const bound = d.suspicionMaxTimeoutMult * suspicionTimeout(d.suspicionMult, N, d.probeIntervalMs) + 5 * d.probeIntervalMs;
  const took = await sim.until(() => [...sim.nodes.keys()].every((n) => sim.stateOf(n, 'node17') === 'dead'), bound, 50);
  assert.ok(took >= 0, `failed everywhere within ${bound}ms`);
  sim.nodes.get('node3')!.gossip.userEvent('deploy', 'v2');
  await sim.run(60_000, 50);
  for (const n of sim.nodes.values()) {
    const failed = n.events.filter((e) => e.type === 'member-failed').map((e) => (e.type === 'user' ? '' : e.member.name));
    assert.deepEqual(failed, ['node17'], `${n.name} failures`);
    assert.equal(n.events.filter((e) => e.type === 'user').length, 1, `${n.name} events`);
  }
});
