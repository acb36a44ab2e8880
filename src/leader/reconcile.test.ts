// Member reconciliation against a real in-process server's catalog, with a scripted member list.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import type { Gossip, GossipListener, Member } from '../gossip/index.ts';
import { startDevAgent, type DevAgent } from '../../test/support/agent.ts';
import { MemberReconciler } from './reconcile.ts';

let dev: DevAgent;
let members: Member[] = [];
const listeners = new Set<GossipListener>();
const gossip = { members: () => members, on: (l: GossipListener) => { listeners.add(l); return () => listeners.delete(l); } } as unknown as Gossip;
const member = (name: string, state: Member['state'], role = 'node'): Member => ({
  name, addr: '10.0.0.9', port: 8301, tags: { role, dc: 'dc1', id: randomUUID(), port: '8300', build: '1.16.1:abc' }, incarnation: 1, state, stateChange: 0,
});

before(async () => {
  dev = await startDevAgent();
});
after(() => dev.stop());

function reconciler(clock = new ManualClock()): MemberReconciler {
  const a = dev.agent;
  return new MemberReconciler({ gossip, catalog: () => a.endpoints.catalog, replica: a.replica, datacenter: 'dc1', nodeName: 'test-node', clock, logger: silentLogger() });
}
const serf = (node: string) => dev.agent.replica.catalog.checks.get(node)?.get('serfHealth');

test('alive → registered with serfHealth passing (servers also get the consul service); failed → critical; left → deregistered', async () => {
  members = [member('web-1', 'alive'), member('srv-2', 'alive', 'consul'), member('other-dc', 'alive')];
  members[2].tags.dc = 'dc2';
  const r = reconciler();
  await r.start();
  assert.equal(serf('web-1')?.Status, 'passing');
  assert.equal(serf('web-1')?.Output, 'Agent alive and reachable');
  assert.equal(dev.agent.replica.catalog.services.get('srv-2')?.get('consul')?.Port, 8300);
  assert.equal(dev.agent.replica.catalog.nodes.has('other-dc'), false, 'members of another datacenter are not ours to register');
  members[0] = member('web-1', 'dead');
  for (const l of listeners) l({ type: 'member-failed', member: members[0] });
  await r.reconcileAll();
  assert.equal(serf('web-1')?.Status, 'critical');
  assert.equal(serf('web-1')?.Output, 'Agent not live or unreachable');
  members = [member('web-1', 'left'), member('srv-2', 'alive', 'consul')];
  await r.reconcileAll();
  assert.equal(dev.agent.replica.catalog.nodes.has('web-1'), false);
  r.stop();
});

test('the periodic pass deregisters nodes with serfHealth that gossip no longer knows, never this server', async () => {
  members = [];
  const clock = new ManualClock();
  const r = reconciler(clock);
  await r.start();
  assert.ok(serf('srv-2'));
  await r.reconcileAll();
  assert.equal(dev.agent.replica.catalog.nodes.has('srv-2'), false);
  await dev.agent.endpoints.catalog.register({ Node: 'test-node', Address: '127.0.0.1', Check: { CheckID: 'serfHealth', Status: 'passing' } });
  await r.reconcileAll();
  assert.equal(dev.agent.replica.catalog.nodes.has('test-node'), true);
  r.stop();
  assert.equal(listeners.size, 0, 'stop() unsubscribes');
});

test('a node stored in another spelling is its member\'s: not re-registered on every pass, nor reaped', async () => {
  members = [];
  await dev.agent.endpoints.catalog.register({ Node: 'Foo-1', Address: '10.0.0.9', Check: { CheckID: 'serfHealth', Status: 'passing' } });
  let writes = 0;
  const a = dev.agent;
  const counting = () => {
    const c = a.endpoints.catalog;
    return new Proxy(c, {
      get: (t, k) => (k === 'register' || k === 'deregister'
        ? (...args: unknown[]) => { writes++; return (t[k] as (...x: unknown[]) => unknown).apply(t, args); }
        : Reflect.get(t, k)),
    });
  };
  const r = new MemberReconciler({ gossip, catalog: counting as () => typeof a.endpoints.catalog, replica: a.replica, datacenter: 'dc1', nodeName: 'test-node', clock: new ManualClock(), logger: silentLogger() });
  members = [member('foo-1', 'alive')];
  await r.start();
  await r.reconcileAll();
  assert.equal(writes, 0, 'an up-to-date node in another spelling is left alone');
  assert.equal(serf('Foo-1')?.Status, 'passing');
  members = [member('foo-1', 'left')];
  await r.reconcileAll();
  assert.equal(dev.agent.replica.catalog.nodes.has('Foo-1'), false, 'a left member deregisters its node in any spelling');
  r.stop();
});

test("each pass and each member of this datacenter are timed (Consul's leader.reconcile and leader.reconcileMember)", async () => {
  members = [member('t-1', 'alive'), member('t-2', 'alive'), member('t-other', 'alive')];
  members[2].tags.dc = 'dc2';
  const passes: number[] = [];
  const perMember: number[] = [];
  const a = dev.agent;
  const r = new MemberReconciler({
    gossip, catalog: () => a.endpoints.catalog, replica: a.replica, datacenter: 'dc1', nodeName: 'test-node', clock: new ManualClock(), logger: silentLogger(),
    timers: { reconcile: (ms) => void passes.push(ms), reconcileMember: (ms) => void perMember.push(ms) },
  });
  await r.reconcileAll();
  assert.equal(passes.length, 1);
  assert.equal(perMember.length, 2);
  assert.ok(passes[0] >= perMember[0] && perMember.every((ms) => ms >= 0));
  r.stop();
});
