import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Simulation } from '../gossip/simulation.ts';
import { wanGossipConfig, wanMergeCheck } from './wan-pool.ts';
import { gossipConfigFrom } from './lan-pool.ts';
import { loadConfig } from './config/index.ts';

const server = (dc: string) => ({ tags: { role: 'consul', dc, port: '8300' }, mergeCheck: wanMergeCheck });

test('servers of two datacenters merge; a client cannot join the WAN pool nor be gossiped into it', async () => {
  const sim = new Simulation({ seed: 31 });
  const a = await sim.add('a.dc1', server('dc1'), '10.1.0.1');
  const b = await sim.add('b.dc2', server('dc2'), '10.2.0.1');
  assert.equal(await sim.joinNow(b, ['10.1.0.1:8301']), 1);
  assert.ok((await sim.until(() => sim.converged(), 5_000)) >= 0);
  // A LAN agent pointed at the WAN port: both sides refuse the merge.
  const client = await sim.add('c', { tags: { role: 'node', dc: 'dc1' } }, '10.1.0.9');
  await assert.rejects(sim.joinNow(client, ['10.1.0.1:8301']), /Member 'c' is not a server/);
  // A server joining through that agent refuses the agent's member table.
  const d = await sim.add('d.dc3', server('dc3'), '10.3.0.1');
  await assert.rejects(sim.joinNow(d, ['10.1.0.9:8301']), /Member 'c' is not a server/);
  await sim.run(3_000);
  for (const n of [a, b]) assert.deepEqual(n.gossip.members().map((m) => m.name).sort(), ['a.dc1', 'b.dc2']);
});

test('the WAN merge check names the first member that is not a server', () => {
  assert.equal(wanMergeCheck([{ name: 's.dc1', tags: { role: 'consul', dc: 'dc1' } }]), null);
  assert.equal(wanMergeCheck([{ name: 's.dc1', tags: { role: 'consul', dc: 'dc1' } }, { name: 'x', tags: { role: 'consul' } }]), "Member 'x' is not a server");
});

test('disable_keyring_file reaches both pools (no local.keyring or remote.keyring)', async () => {
  const load = async (extra: string) => (await loadConfig({ args: ['-server', '-data-dir', '/tmp/unused', '-bind', '127.0.0.1', '-hcl', extra], readOnly: true })).config;
  const off = await load('disable_keyring_file = true');
  assert.deepEqual([gossipConfigFrom(off)?.disableKeyringFile, wanGossipConfig(off)?.disableKeyringFile], [true, true]);
  const on = await load('');
  assert.deepEqual([gossipConfigFrom(on)?.disableKeyringFile, wanGossipConfig(on)?.disableKeyringFile], [false, false]);
});
