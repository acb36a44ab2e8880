// advertise_reconnect_timeout: a client advertises its own reconnect timeout in the `rc_tm` tag
// and the pool reaps it, once failed, after that timeout instead of reconnect_timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../gossip/simulation.ts';
import { loadConfig } from './config/index.ts';
import { fakeInterfaces } from './config/test-fixtures.ts';
import { reconnectOverride } from './lan-pool.ts';
import { memberTags } from './member-tags.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'h', interfaces: fakeInterfaces });

test('a client advertises rc_tm as a Go duration; none by default; a server may not set it (Consul\'s error)', async () => {
  const { config, warnings } = await load(['-data-dir', '/tmp/x', '-hcl', 'advertise_reconnect_timeout = "90m"']);
  assert.equal(memberTags(config).rc_tm, '1h30m0s');
  assert.deepEqual(warnings.filter((w) => w.includes('advertise_reconnect_timeout')), []);
  assert.equal(memberTags((await load(['-data-dir', '/tmp/x'])).config).rc_tm, undefined);
  await assert.rejects(load(['-server', '-data-dir', '/tmp/x', '-hcl', 'advertise_reconnect_timeout = "1h"']), { message: 'advertise_reconnect_timeout can only be used on a client' });
});

test('the override: rc_tm when valid and not zero, else the pool\'s timeout', () => {
  const o = reconnectOverride(undefined);
  assert.equal(o({ name: 'a', tags: { rc_tm: '2m' } }, 72 * 3_600_000), 120_000);
  assert.equal(o({ name: 'a', tags: { rc_tm: '0s' } }, 5), 5);
  assert.equal(o({ name: 'a', tags: { rc_tm: 'soon' } }, 5), 5);
  // Past Go's duration range ParseDuration fails: the member is not kept (almost) for ever.
  assert.equal(o({ name: 'a', tags: { rc_tm: '99999999999h' } }, 5), 5);
  assert.equal(o({ name: 'a', tags: { rc_tm: '2562047h' } }, 5), 2562047 * 3_600_000);
  assert.equal(o({ name: 'a', tags: {} }, 5), 5);
});

test('a failed member advertising rc_tm is reaped after it, long before reconnect_timeout', async () => {
  const sim = new Simulation({ seed: 11, base: { reconnectTimeoutMs: 3_600_000, reapIntervalMs: 5_000, reconnectTimeoutOverride: reconnectOverride(undefined) } });
  const [seed] = await sim.addMany(3);
  const join = `${seed.gossip.localMember().addr}:8301`;
  await sim.joinNow(await sim.add('short', { tags: { rc_tm: '1m0s' } }), [join]);
  await sim.joinNow(await sim.add('plain'), [join]);
  assert.ok(await sim.until(() => sim.converged(), 10_000) >= 0, 'converged');
  await sim.kill('short');
  await sim.kill('plain');
  assert.ok(await sim.until(() => sim.stateOf('node0', 'short') === 'dead' && sim.stateOf('node0', 'plain') === 'dead', 60_000) >= 0, 'both failed');
  await sim.until(() => sim.stateOf('node0', 'short') === undefined, 120_000, 100);
  assert.equal(sim.stateOf('node0', 'short'), undefined, 'reaped after its rc_tm');
  assert.equal(sim.stateOf('node0', 'plain'), 'dead', 'kept for reconnect_timeout');
});
