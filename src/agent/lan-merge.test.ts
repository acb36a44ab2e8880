import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Simulation } from '../gossip/simulation.ts';
import { lanMergeCheck } from './lan-merge.ts';

const agent = (name: string, dc: string, id: string, role = 'node') => ({
  tags: { role, dc, id, segment: '' }, mergeCheck: lanMergeCheck({ datacenter: dc, nodeId: id, nodeName: name }),
});

test('a dc2 server cannot join dc1\'s LAN pool; dc1 agents still can', async () => {
  const sim = new Simulation({ seed: 41 });
  await sim.add('a', agent('a', 'dc1', 'id-a', 'consul'), '10.0.1.1');
  const b = await sim.add('b', agent('b', 'dc1', 'id-b'), '10.0.1.2');
  assert.equal(await sim.joinNow(b, ['10.0.1.1:8301']), 1);
  const x = await sim.add('x', agent('x', 'dc2', 'id-x', 'consul'), '10.0.2.1');
  await assert.rejects(sim.joinNow(x, ['10.0.1.1:8301']), /Failed to join 10.0.1.1:8301: Member 'x' part of wrong datacenter 'dc2'/);
  await sim.run(3_000);
  assert.deepEqual(sim.nodes.get('a')!.gossip.members().map((m) => m.name).sort(), ['a', 'b']);
});

test('node ID conflicts, wrong datacenters and segments are refused with Consul\'s texts', () => {
  const check = lanMergeCheck({ datacenter: 'dc1', nodeId: 'me-id', nodeName: 'me' });
  const m = (name: string, tags: Record<string, string>) => ({ name, tags: { segment: '', ...tags } });
  assert.equal(check([m('me', { id: 'me-id', role: 'node', dc: 'dc1' }), m('b', { id: 'b-id', role: 'consul', dc: 'dc1' })]), null);
  assert.equal(check([m('ME', { id: 'me-id', role: 'node', dc: 'dc1' })]), null);
  assert.equal(check([m('imposter', { id: 'me-id', role: 'node', dc: 'dc1' })]), "Member 'imposter' has conflicting node ID 'me-id' with this agent's ID");
  assert.equal(check([m('b', { id: 'x' }), m('c', { id: 'x' })]), "Member 'c' has conflicting node ID 'x' with member 'b'");
  assert.equal(check([m('s', { role: 'consul', dc: 'dc2' })]), "Member 's' part of wrong datacenter 'dc2'");
  assert.equal(check([m('n', { role: 'node', dc: 'dc3' })]), "Member 'n' part of wrong datacenter 'dc3'");
  assert.equal(check([m('g', { segment: 'alpha' })]), "Member 'g' part of wrong segment 'alpha' (expected '')");
});
