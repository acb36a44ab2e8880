// The autopilot loop's wiring with a scripted etcd membership and server set on a memory store:
// it publishes the membership, calls a non-member in through autopilot/join (once), promotes a
// learner, demotes an unwanted zone voter, and hands leadership over during an upgrade.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import type { ManagedMember } from '../store/index.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { configFromAgent } from './autopilot.ts';
import { autopilotLoop, isVoter, JOIN_KEY, MEMBERSHIP_KEY, membershipNow, readMembership } from './autopilot-loop.ts';
import type { LeaderElection } from './election-types.ts';
import { decodeJson, type ServerRecord } from './servers.ts';

const T0 = 1_700_000_000_000;

let leases = 100;
function record(Node: string, Tags: Record<string, string> = {}): ServerRecord {
  return {
    ID: `id-${Node}`, Node, Address: `10.0.0.1:${8300 + Node.length}`, Version: '1.16.1', Tags, ReadReplica: false,
    Lease: leases++, LastIndex: 1, LastContactMs: 0, StatusAt: T0, Since: T0 - 60_000,
  };
}

function harness(servers: ServerRecord[], members: ManagedMember[], autopilot: Record<string, unknown> = {}) {
  const clock = new ManualClock(T0);
  const store = new MemoryStore();
  const calls: string[] = [];
  let leader = servers[0];
  const election = {
    servers: () => servers, self: () => leader, leader: () => ({ ID: leader.ID, Node: leader.Node, Address: leader.Address, Lease: leader.Lease, Beat: 1 }),
    heartbeatMs: () => 1000, lastContactMs: () => 0, term: () => 1,
    transfer: async (id?: string) => { calls.push(`transfer ${id}`); leader = servers.find((s) => s.ID === id)!; },
  } as unknown as LeaderElection;
  const admin = {
    members: async () => members,
    promote: async (id: string) => { calls.push(`promote ${id}`); const m = members.find((x) => x.ID === id)!; m.Learner = false; },
    remove: async (id: string) => { calls.push(`remove ${id}`); members.splice(members.findIndex((x) => x.ID === id), 1); },
  };
  const loop = autopilotLoop({ admin, election, store, clock, logger: silentLogger(), agentConfig: () => configFromAgent({ server_stabilization_time: '1s', ...autopilot }) });
  return { loop, store, calls, clock };
}

const member = (name: string, learner = false): ManagedMember => ({ ID: `m-${name}`, Name: name, PeerURLs: [], Learner: learner });

test('a stable non-member is called in once through autopilot/join, promoted once it is the learner; the membership is published', async () => {
  const servers = ['s1', 's2', 's3', 's4'].map((n) => record(n));
  const members = ['s1', 's2', 's3'].map((n) => member(n));
  const h = harness(servers, members);
  assert.deepEqual(await h.loop.pass(), { kind: 'join', name: 's4' });
  const join = await h.store.get(JOIN_KEY);
  assert.equal(decodeJson<{ Node: string }>(join!.value)?.Node, 's4');
  assert.deepEqual(Object.keys((await readMembership(h.store))!), ['s1', 's2', 's3']);
  assert.equal((await h.loop.pass()).kind, 'none', 'not called twice while it joins');
  members.push(member('s4', true));
  assert.deepEqual(await h.loop.pass(), { kind: 'promote', id: 'm-s4', name: 's4' });
  assert.deepEqual(h.calls, ['promote m-s4']);
  await h.loop.pass();
  assert.equal((await readMembership(h.store))!.s4.Voter, true);
});

test('zones: the extra voter of a zone is demoted; zone and version are published with the membership', async () => {
  const servers = [record('s1', { zone: 'a' }), record('s2', { zone: 'b' }), record('s3', { zone: 'c' }), record('s4', { zone: 'a' })];
  const members = ['s1', 's2', 's3', 's4'].map((n) => member(n));
  const h = harness(servers, members, { redundancy_zone_tag: 'zone' });
  assert.deepEqual(await h.loop.pass(), { kind: 'remove', id: 'm-s4', name: 's4', why: 'demote' });
  const published = (await readMembership(h.store))!;
  assert.equal(published.s4.Zone, 'a');
  assert.equal(published.s1.Version, '1.16.1');
});

test('upgrade: with the new servers voting, leadership moves to one of them before the old are demoted', async () => {
  const old = ['o1', 'o2', 'o3'].map((n) => record(n, { build: '1' }));
  const fresh = ['n1', 'n2', 'n3'].map((n) => record(n, { build: '2' }));
  const members = [...old, ...fresh].map((s) => member(s.Node));
  const h = harness([...old, ...fresh], members, { upgrade_version_tag: 'build' });
  assert.deepEqual(await h.loop.pass(), { kind: 'transfer', name: 'n1' });
  assert.deepEqual(h.calls, ['transfer id-n1']);
  assert.deepEqual(await h.loop.pass(), { kind: 'remove', id: 'm-o1', name: 'o1', why: 'demote' });
});

test('zones: a voter whose server was seen and is gone is replaced at once; one never seen yet is given time', async () => {
  const servers = [record('s1', { zone: 'a' }), record('s2', { zone: 'b' }), record('s3', { zone: 'c' }), record('s4', { zone: 'a' })];
  const members = ['s1', 's2', 's3'].map((n) => member(n));
  const h = harness(servers, members, { redundancy_zone_tag: 'zone' });
  assert.deepEqual(await h.loop.pass(), { kind: 'join', name: 's4' }, 'kept warm');
  servers.splice(2, 1);
  assert.deepEqual(await h.loop.pass(), { kind: 'remove', id: 'm-s3', name: 's3', why: 'dead' }, 'zone c lost: its voter goes');
  members.push(member('s5'));
  assert.equal((await h.loop.pass()).kind, 'none', 's5 is a voting member whose server has not registered: not removed');
});

test('zones: a live voter is replaced only after staying unhealthy for ServerStabilizationTime', async () => {
  const servers = [record('s1', { zone: 'a' }), record('s2', { zone: 'b' }), record('s3', { zone: 'c' }), record('s5', { zone: 'b' })];
  const members = ['s1', 's2', 's3'].map((n) => member(n));
  const h = harness(servers, members, { redundancy_zone_tag: 'zone' });
  members.push(member('s5', true));
  assert.equal((await h.loop.pass()).kind, 'none', 's5 kept warm');
  servers[1] = { ...servers[1], StatusAt: T0 - 60_000 }; // s2's record is stale: unhealthy
  h.clock.advance(500);
  assert.equal((await h.loop.pass()).kind, 'none', 'a moment of ill health changes nothing');
  h.clock.advance(1000);
  assert.deepEqual(await h.loop.pass(), { kind: 'remove', id: 'm-s2', name: 's2', why: 'demote' }, 'then it is demoted for its spare');
  assert.deepEqual(await h.loop.pass(), { kind: 'promote', id: 'm-s5', name: 's5' });
});

test('before autopilot first publishes, the operator endpoints take the voters from etcd\'s member list (a non-member is no voter)', async () => {
  const store = Object.assign(new MemoryStore(), {
    members: async (): Promise<ManagedMember[]> => [
      { ID: '1', Name: 'o1', PeerURLs: [], Learner: false },
      { ID: '2', Name: 'n1', PeerURLs: [], Learner: true },
      { ID: '3', Name: '', PeerURLs: [], Learner: true },
    ],
  });
  const membership = await membershipNow(store);
  assert.equal(isVoter(record('o1'), membership), true);
  assert.equal(isVoter(record('n1'), membership), false, 'a learner');
  assert.equal(isVoter(record('n2'), membership), false, 'not a member yet');
  // Published: the published membership; a store without members: every server votes.
  await store.txn({ success: [{ type: 'put', key: MEMBERSHIP_KEY, value: Buffer.from(JSON.stringify({ n1: { ID: '2', Voter: true } })) }] });
  assert.equal(isVoter(record('n1'), await membershipNow(store)), true);
  assert.equal(isVoter(record('n1'), await membershipNow(new MemoryStore())), true);
});
