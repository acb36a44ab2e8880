// The autopilot planner: wanted voters and the next etcd membership step for plain datacenters,
// redundancy zones (spares, zone loss, fewer zones than three), read replicas and upgrade migrations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, desiredRoles, nextAction, type ActionInput, type PlanConfig, type PlanMember, type PlanServer } from './autopilot-plan.ts';

const plain: PlanConfig = { RedundancyZoneTag: '', DisableUpgradeMigration: false };
const zoned: PlanConfig = { RedundancyZoneTag: 'zone', DisableUpgradeMigration: false };

/** A healthy, stable, live voter unless overridden. */
const srv = (Name: string, o: Partial<PlanServer> = {}): PlanServer => ({
  ID: `id-${Name}`, Name, Zone: '', Version: '1.0.0', ReadReplica: false, Alive: true, Healthy: true, Stable: true, Voter: true, Leader: false, ...o,
});
/** Members for the servers that are voters or learners (learners named in `learners`). */
const membersOf = (servers: PlanServer[], learners: string[] = [], dead: string[] = []): PlanMember[] => servers
  .filter((s) => s.Voter || learners.includes(s.Name))
  .map((s) => ({ ID: `m-${s.Name}`, Name: s.Name, Learner: learners.includes(s.Name), Dead: dead.includes(s.Name) }));

function step(servers: PlanServer[], cfg: PlanConfig, o: Partial<ActionInput> & { learners?: string[]; dead?: string[] } = {}) {
  const plan = desiredRoles(servers, cfg);
  const action = nextAction({
    plan, servers, members: o.members ?? membersOf(servers, o.learners, o.dead), cleanupDeadServers: o.cleanupDeadServers ?? true,
    minQuorum: o.minQuorum ?? 0, pendingJoin: o.pendingJoin ?? '',
  });
  return { plan, action };
}
const sortedVoters = (p: { voters: Set<string> }) => [...p.voters].sort();

test('versions compare numerically part by part; a release sorts after its pre-release', () => {
  assert.ok(compareVersions('1.10.0', '1.9.2') > 0);
  assert.ok(compareVersions('2', '10') < 0);
  assert.equal(compareVersions('1.2.3', '1.2.3'), 0);
  assert.ok(compareVersions('1.2.0', '1.2.0-rc1') > 0);
  assert.ok(compareVersions('b', 'a') > 0);
});

test('plain: a stable new server joins as the learner and is promoted; an unstable one waits as a warm learner', () => {
  const base = [srv('s1', { Leader: true }), srv('s2'), srv('s3')];
  let r = step([...base, srv('s4', { Voter: false })], plain);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's3', 's4']);
  assert.equal(r.plan.nodeType.get('s4'), 'voter');
  assert.deepEqual(r.action, { kind: 'join', name: 's4' });
  r = step([...base, srv('s4', { Voter: false })], plain, { learners: ['s4'] });
  assert.deepEqual(r.action, { kind: 'promote', id: 'm-s4', name: 's4' });
  // Not yet stable: not wanted as a voter, but it still takes the free learner slot to catch up.
  r = step([...base, srv('s4', { Voter: false, Stable: false })], plain);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's3']);
  assert.deepEqual(r.action, { kind: 'join', name: 's4' });
  r = step([...base, srv('s4', { Voter: false, Stable: false })], plain, { learners: ['s4'] });
  assert.equal(r.action.kind, 'none');
  // While another server is asked to join, nobody else is.
  r = step([...base, srv('s4', { Voter: false }), srv('s5', { Voter: false })], plain, { pendingJoin: 's4' });
  assert.equal(r.action.kind, 'none');
  // An unhealthy voter is never demoted without zones.
  r = step([srv('s1', { Leader: true }), srv('s2', { Healthy: false }), srv('s3')], plain);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's3']);
  assert.equal(r.action.kind, 'none');
});

test('plain: only one learner at a time — the second new server waits for the first to be promoted', () => {
  const servers = [srv('s1', { Leader: true }), srv('s2'), srv('s3'), srv('s4', { Voter: false }), srv('s5', { Voter: false })];
  const r = step(servers, plain, { learners: ['s4'] });
  assert.deepEqual(r.action, { kind: 'promote', id: 'm-s4', name: 's4' });
  const members = membersOf(servers, ['s4']);
  // s4 not caught up yet (etcd refused): s5 wanted too, but the slot holds a wanted voter → wait.
  const again = nextAction({ plan: r.plan, servers: servers.map((s) => (s.Name === 's4' ? { ...s, Stable: false } : s)), members, cleanupDeadServers: true, minQuorum: 0, pendingJoin: '' });
  assert.equal(again.kind, 'none');
});

test('dead cleanup: learners first, a voter only while quorum and MinQuorum hold', () => {
  const servers = [srv('s1', { Leader: true }), srv('s2'), srv('s3'), srv('s4', { Alive: false, Healthy: false })];
  let r = step(servers, plain, { dead: ['s4'] });
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s4', name: 's4', why: 'dead' });
  r = step(servers, plain, { dead: ['s4'], minQuorum: 4 });
  assert.notEqual(r.action.kind, 'remove');
  r = step(servers, plain, { dead: ['s4'], cleanupDeadServers: false });
  assert.equal(r.action.kind, 'none');
  // Half the voters dead: never remove (it may be us who are partitioned).
  const half = [srv('s1', { Leader: true }), srv('s2'), srv('s3', { Alive: false }), srv('s4', { Alive: false })];
  assert.equal(step(half, plain, { dead: ['s3', 's4'] }).action.kind, 'none');
  // A member that never started (no name) is removed once dead.
  const unstarted: PlanMember[] = [...membersOf(servers.slice(0, 3)), { ID: 'm-x', Name: '', Learner: true, Dead: true }];
  assert.deepEqual(step(servers.slice(0, 3), plain, { members: unstarted }).action, { kind: 'remove', id: 'm-x', name: '', why: 'dead' });
});

test('a leader that is not a voter hands leadership to a voter', () => {
  const servers = [srv('s1'), srv('s2'), srv('s3'), srv('s4', { Voter: false, Leader: true, ReadReplica: true })];
  const r = step(servers, plain);
  assert.equal(r.plan.leaderTarget, 's1');
  assert.deepEqual(r.action, { kind: 'transfer', name: 's1' });
});

const fiveInThreeZones = (o: Record<string, Partial<PlanServer>> = {}) => [
  srv('s1', { Zone: 'z1', Leader: true, ...o.s1 }), srv('s2', { Zone: 'z2', ...o.s2 }), srv('s3', { Zone: 'z3', ...o.s3 }),
  srv('s4', { Zone: 'z1', ...o.s4 }), srv('s5', { Zone: 'z2', ...o.s5 }),
];

test('zones: five voters in three zones → one voter per zone, the others demoted one at a time and one kept warm', () => {
  let servers = fiveInThreeZones();
  let r = step(servers, zoned);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's3']);
  assert.deepEqual(Object.fromEntries(r.plan.nodeType), { s1: 'zone-voter', s2: 'zone-voter', s3: 'zone-voter', s4: 'zone-standby', s5: 'zone-standby' });
  assert.deepEqual(r.plan.zones.get('z1'), { servers: ['s1', 's4'], voters: ['s1'] });
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s4', name: 's4', why: 'demote' });
  servers = fiveInThreeZones({ s4: { Voter: false } });
  assert.deepEqual(step(servers, zoned).action, { kind: 'remove', id: 'm-s5', name: 's5', why: 'demote' });
  servers = fiveInThreeZones({ s4: { Voter: false }, s5: { Voter: false } });
  r = step(servers, zoned);
  assert.deepEqual(r.action, { kind: 'join', name: 's4' }, 'a standby takes the free learner slot');
  r = step(servers, zoned, { learners: ['s4'] });
  assert.deepEqual(r.action, { kind: 'none', why: 'settled' }, 'the warm standby is not promoted while its zone voter is fine');
  // The leader's zone keeps the leader as its voter.
  r = step(fiveInThreeZones({ s1: { Leader: false }, s4: { Leader: true } }), zoned);
  assert.deepEqual(r.plan.zones.get('z1')?.voters, ['s4']);
});

test('zones: a failed zone voter is replaced by its zone\'s spare (promoted if warm, else the slot is freed for it), then demoted', () => {
  const down = { s1: { Alive: false, Healthy: false, Leader: false }, s2: { Leader: true }, s4: { Voter: false }, s5: { Voter: false } };
  let r = step(fiveInThreeZones(down), zoned, { learners: ['s4'] });
  assert.deepEqual(sortedVoters(r.plan), ['s2', 's3', 's4']);
  // The failed voter goes first (Consul cleans up dead servers when a replacement joins; etcd adds
  // no member while a voter is unreachable) — demoted as unwanted even without dead-server cleanup.
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s1', name: 's1', why: 'dead' });
  r = step(fiveInThreeZones(down), zoned, { learners: ['s4'], cleanupDeadServers: false });
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s1', name: 's1', why: 'demote' });
  const gone = fiveInThreeZones(down).filter((s) => s.Name !== 's1');
  r = step(gone, zoned, { learners: ['s4'] });
  assert.deepEqual(r.action, { kind: 'promote', id: 'm-s4', name: 's4' });
  // The slot is held by another zone's standby: evict it, then s4 joins.
  r = step(gone, zoned, { learners: ['s5'] });
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s5', name: 's5', why: 'evict' });
  r = step(gone, zoned);
  assert.deepEqual(r.action, { kind: 'join', name: 's4' });
  r = step(gone, zoned, { pendingJoin: 's5' });
  assert.deepEqual(r.action, { kind: 'join', name: 's4' }, 'a standby called in before the failure does not hold up the spare');
  r = step(gone, zoned, { pendingJoin: 's4' });
  assert.equal(r.action.kind, 'none');
  // s4 was added but its member has not started (no name yet): it is not evicted as a stranger.
  const added: PlanMember[] = [...membersOf(gone), { ID: 'm-new', Name: '', Learner: true, Dead: false }];
  assert.deepEqual(step(gone, zoned, { members: added, pendingJoin: 's4' }).action, { kind: 'none', why: 'waiting for the new learner to start' });
  // No warm standby is called in while a voter is down (etcd would refuse it).
  r = step(fiveInThreeZones({ s3: { Alive: false, Healthy: false }, s4: { Voter: false, Stable: false }, s5: { Voter: false, Stable: false } }), plain);
  assert.equal(r.action.kind, 'none');
  // A healthy unwanted voter, though, waits until the wanted ones vote.
  const healthyExtra = fiveInThreeZones({ s1: { Leader: false }, s2: { Leader: true }, s4: { Voter: false }, s5: { Voter: false }, s3: { Alive: false, Healthy: false } })
    .map((s) => (s.Name === 's3' ? { ...s, Voter: false } : s));
  r = step([...healthyExtra, srv('s6', { Zone: 'z3', Voter: false })], zoned);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's6']);
  assert.deepEqual(r.action, { kind: 'join', name: 's6' });
  // A spare that is not stable yet does not take over; the zone keeps no voter until it is.
  r = step(fiveInThreeZones({ ...down, s4: { Voter: false, Stable: false } }), zoned);
  assert.deepEqual(sortedVoters(r.plan), ['s2', 's3']);
  assert.equal(r.plan.nodeType.get('s4'), 'zone-voter');
});

test('zones: a lost zone is covered by an extra voter from another zone, demoted when the zone is back', () => {
  const lost = { s3: { Alive: false, Healthy: false }, s4: { Voter: false }, s5: { Voter: false } };
  let r = step(fiveInThreeZones(lost), zoned);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's4']);
  assert.equal(r.plan.nodeType.get('s4'), 'zone-extra-voter');
  assert.deepEqual(r.plan.zones.get('z1')?.voters, ['s1', 's4']);
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s3', name: 's3', why: 'dead' });
  r = step(fiveInThreeZones(lost).map((s) => (s.Name === 's3' ? { ...s, Voter: false } : s)), zoned);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's4']);
  assert.deepEqual(r.action, { kind: 'join', name: 's4' });
  // After cleanup removed the dead zone entirely, the extra voter stays (three voters, not two).
  const cleaned = fiveInThreeZones({ s5: { Voter: false } }).filter((s) => s.Name !== 's3');
  r = step(cleaned, zoned);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's4']);
  assert.equal(r.action.kind, 'join', 'and s5 is kept warm');
  // z3 comes back (stable): its server is wanted, joins, and the extra voter is then demoted.
  const back = [...cleaned, srv('s3', { Zone: 'z3', Voter: false })];
  r = step(back, zoned);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's3']);
  assert.deepEqual(r.action, { kind: 'join', name: 's3' });
  r = step(back.map((s) => (s.Name === 's3' ? { ...s, Voter: true } : s)), zoned);
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s4', name: 's4', why: 'demote' });
});

test('zones: fewer than three zones still keep three voters; zoneless servers vote only as extras', () => {
  const two = [srv('a1', { Zone: 'a', Leader: true }), srv('a2', { Zone: 'a' }), srv('b1', { Zone: 'b' }), srv('b2', { Zone: 'b' })];
  let r = step(two, zoned);
  assert.deepEqual(sortedVoters(r.plan), ['a1', 'a2', 'b1']);
  assert.equal(r.plan.nodeType.get('a2'), 'zone-extra-voter');
  assert.equal(r.plan.nodeType.get('b2'), 'zone-standby');
  const withZoneless = [srv('a1', { Zone: 'a', Leader: true }), srv('b1', { Zone: 'b' }), srv('c1', { Zone: 'c' }), srv('n1')];
  r = step(withZoneless, zoned);
  assert.deepEqual(sortedVoters(r.plan), ['a1', 'b1', 'c1']);
  assert.equal(r.plan.nodeType.get('n1'), 'zone-standby');
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-n1', name: 'n1', why: 'demote' });
  // A tag nobody sets: plain behaviour rather than no voters at all.
  r = step([srv('s1', { Leader: true }), srv('s2'), srv('s3')], zoned);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's3']);
});

test('zones: a voter whose server has not registered yet (alive, unhealthy) keeps its zone unless a healthy spare can take it', () => {
  // Bootstrap: s3's member votes but its server record is not there yet; nothing else in z3.
  const starting = fiveInThreeZones({ s3: { Healthy: false, Stable: false } });
  let r = step(starting, zoned);
  assert.ok(r.plan.voters.has('s3'));
  assert.notDeepEqual(r.action, { kind: 'remove', id: 'm-s3', name: 's3', why: 'demote' });
  // Same in z1, where s4 is a healthy voter: s4 takes the zone and s1 is removed first.
  r = step(fiveInThreeZones({ s1: { Healthy: false, Stable: false, Leader: false }, s2: { Leader: true } }), zoned);
  assert.deepEqual(r.plan.zones.get('z1')?.voters, ['s4']);
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s1', name: 's1', why: 'demote' });
});

test('zones: demotion never leaves the rest without a healthy quorum, nor demotes the leader before handing over', () => {
  const servers = fiveInThreeZones({ s2: { Healthy: false }, s3: { Healthy: false }, s5: { Healthy: false } });
  // s4 is an unwanted voter; removing it leaves s1,s2,s3,s5 with one healthy → refused.
  const r = step(servers, zoned);
  assert.equal(r.action.kind, 'none');
  // A down unwanted voter that cannot go yet does not hold up its zone's replacement.
  const stuck = fiveInThreeZones({ s1: { Alive: false, Healthy: false, Leader: false }, s2: { Leader: true, Healthy: false }, s3: { Healthy: false }, s4: { Voter: false } });
  assert.deepEqual(step(stuck, zoned, { learners: ['s4'], cleanupDeadServers: false }).action, { kind: 'promote', id: 'm-s4', name: 's4' });
  const leaderUnwanted = fiveInThreeZones({ s1: { Leader: false, Alive: false, Healthy: false }, s4: { Leader: true, Voter: true } });
  assert.deepEqual(sortedVoters(step(leaderUnwanted, zoned).plan), ['s2', 's3', 's4']);
});

test('read replicas never vote nor hold the learner slot', () => {
  const servers = [srv('s1', { Leader: true }), srv('s2'), srv('s3'), srv('r1', { Voter: false, ReadReplica: true })];
  let r = step(servers, plain);
  assert.deepEqual(sortedVoters(r.plan), ['s1', 's2', 's3']);
  assert.equal(r.plan.nodeType.get('r1'), 'read-replica');
  assert.equal(r.action.kind, 'none');
  r = step(servers, plain, { learners: ['r1'] });
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-r1', name: 'r1', why: 'evict' });
  r = step(servers.map((s) => ({ ...s, Zone: s.Name === 'r1' ? 'z9' : `z${s.Name[1]}` })), zoned);
  assert.equal(r.plan.nodeType.get('r1'), 'read-replica');
  assert.equal(r.plan.zones.has('z9'), false);
});

test('upgrade migration: new servers wait as non-voters until they match the old voters, then promote, take leadership and demote the old', () => {
  const old = [srv('o1', { Leader: true }), srv('o2'), srv('o3')];
  const v2 = (n: string, o: Partial<PlanServer> = {}) => srv(n, { Version: '2.0.0', Voter: false, ...o });
  let r = step([...old, v2('n1'), v2('n2')], plain);
  assert.equal(r.plan.upgrade.Status, 'await-new-voters');
  assert.equal(r.plan.upgrade.TargetVersion, '2.0.0');
  assert.deepEqual(sortedVoters(r.plan), ['o1', 'o2', 'o3']);
  assert.deepEqual(r.action, { kind: 'join', name: 'n1' }, 'kept warm, not promoted');
  r = step([...old, v2('n1'), v2('n2')], plain, { learners: ['n1'] });
  assert.equal(r.action.kind, 'none');
  // An unhealthy third one does not count.
  r = step([...old, v2('n1'), v2('n2'), v2('n3', { Healthy: false })], plain);
  assert.equal(r.plan.upgrade.Status, 'await-new-voters');
  r = step([...old, v2('n1'), v2('n2'), v2('n3')], plain, { learners: ['n1'] });
  assert.equal(r.plan.upgrade.Status, 'promoting');
  assert.deepEqual(sortedVoters(r.plan), ['n1', 'n2', 'n3']);
  assert.deepEqual(r.action, { kind: 'promote', id: 'm-n1', name: 'n1' });
  r = step([...old, v2('n1', { Voter: true }), v2('n2'), v2('n3')], plain);
  assert.deepEqual(r.action, { kind: 'join', name: 'n2' });
  const allIn = [...old, v2('n1', { Voter: true }), v2('n2', { Voter: true }), v2('n3', { Voter: true })];
  r = step(allIn, plain);
  assert.equal(r.plan.upgrade.Status, 'leader-transfer');
  assert.deepEqual(r.action, { kind: 'transfer', name: 'n1' });
  const led = allIn.map((s) => ({ ...s, Leader: s.Name === 'n1' }));
  r = step(led, plain);
  assert.equal(r.plan.upgrade.Status, 'demoting');
  assert.deepEqual(r.plan.upgrade.OtherVersionVoters, ['o1', 'o2', 'o3']);
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-o1', name: 'o1', why: 'demote' });
  const done = led.map((s) => (s.Version === '1.0.0' ? { ...s, Voter: false } : s));
  r = step(done, plain);
  assert.equal(r.plan.upgrade.Status, 'await-server-removal');
  assert.deepEqual(r.plan.upgrade.TargetVersionVoters, ['n1', 'n2', 'n3']);
  assert.deepEqual(r.plan.upgrade.OtherVersionNonVoters, ['o1', 'o2', 'o3']);
  assert.equal(step(done.filter((s) => s.Version === '2.0.0'), plain).plan.upgrade.Status, 'idle');
  // Fewer new servers than old ones in all: the old voters are replaced, more servers are awaited.
  const fewer = [...done, srv('o4', { Voter: false })];
  assert.equal(step(fewer, plain).plan.upgrade.Status, 'await-new-servers');
});

test('upgrade migration with zones waits for a new server in every zone that has an old voter; disabled promotes as usual', () => {
  const old = [srv('o1', { Zone: 'z1', Leader: true }), srv('o2', { Zone: 'z2' }), srv('o3', { Zone: 'z3' })];
  const v2 = (n: string, zone: string) => srv(n, { Version: '2.0.0', Voter: false, Zone: zone });
  let r = step([...old, v2('n1', 'z1'), v2('n2', 'z1'), v2('n3', 'z2')], zoned);
  assert.equal(r.plan.upgrade.Status, 'await-new-voters');
  r = step([...old, v2('n1', 'z1'), v2('n2', 'z2'), v2('n3', 'z3')], zoned);
  assert.deepEqual(sortedVoters(r.plan), ['n1', 'n2', 'n3']);
  r = step([...old, v2('n1', 'z1')], { ...plain, DisableUpgradeMigration: true });
  assert.equal(r.plan.upgrade.Status, 'disabled');
  assert.deepEqual(sortedVoters(r.plan), ['n1', 'o1', 'o2', 'o3']);
  assert.equal(step(old, plain).plan.upgrade.Status, 'idle');
});

test('plain: a failed voter is cleaned up as soon as a replacement waits to vote, not before', () => {
  const servers = [srv('s1', { Leader: true }), srv('s2'), srv('s3', { Alive: false, Healthy: false }), srv('s4', { Voter: false })];
  let r = step(servers, plain, { learners: ['s4'] });
  assert.deepEqual(r.action, { kind: 'remove', id: 'm-s3', name: 's3', why: 'dead' });
  r = step(servers.slice(0, 3), plain);
  assert.equal(r.action.kind, 'none', 'no replacement: wait for the dead-server threshold');
  r = step(servers.map((s) => (s.Name === 's3' ? { ...s, Alive: true, Starting: true } : s)), plain, { learners: ['s4'] });
  assert.deepEqual(r.action, { kind: 'promote', id: 'm-s4', name: 's4' }, 'a starting member is not failed');
});
