// Upgrade migration and read replicas on a managed datacenter of real processes: three servers
// of build 1.0.0 (autopilot upgrade_version_tag = "build") and a read replica; a server of
// build 2.0.0 waits as a non-voter (await-new-voters); once three are in, autopilot promotes
// them, moves leadership to one of them and demotes the old voters (await-server-removal). The
// read replica serves reads, is never an etcd member and never votes. Times printed.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManagedDc, getJson, until, type ManagedServer, type RaftConfig } from './support/managed-dc.ts';

const dc = new ManagedDc('upgrade');
// Also when the test is filtered out or never starts (stopAfter then never runs).
after(() => dc.stop());

interface AutopilotState {
  Leader: string;
  Voters: string[];
  ReadReplicas?: string[];
  Servers: Record<string, { Name: string; NodeType: string; UpgradeVersion?: string; ReadReplica: boolean }>;
  Upgrade?: { Status: string; TargetVersion?: string; TargetVersionVoters?: string[]; OtherVersionNonVoters?: string[]; OtherVersionReadReplicas?: string[] };
}

const raft = (s: ManagedServer) => getJson<RaftConfig>(`${s.http}/v1/operator/raft/configuration`);
const autopilotState = (s: ManagedServer) => getJson<AutopilotState>(`${s.http}/v1/operator/autopilot/state`);
/** Names of etcd's voting members and of all its members. */
const etcdMembers = async (s: ManagedServer) => {
  const res = await fetch(`${s.etcdClient}/v3/cluster/member/list`, { method: 'POST', body: '{}' }).catch(() => null);
  const list = ((await res?.json()) as { members?: { name?: string; isLearner?: boolean }[] } | undefined)?.members ?? [];
  return { voters: list.filter((m) => !m.isLearner).map((m) => m.name ?? '').sort(), all: list.map((m) => m.name ?? '') };
};

test('servers of a newer upgrade version take over voting and leadership once they match the old voters; a read replica never votes', async (t) => {
  dc.stopAfter(t);
  const autopilot = { upgrade_version_tag: 'build', server_stabilization_time: '2s', last_contact_threshold: '2s' };
  const old = await Promise.all(['o1', 'o2', 'o3'].map((n) => dc.prepare(n, { node_meta: { build: '1.0.0' }, autopilot })));
  const replica = await dc.prepare('r1', { node_meta: { build: '1.0.0' }, autopilot, read_replica: true });
  const t0 = Date.now();
  const olds = old.map((p) => dc.launch(p, old, 3));
  const r1 = dc.launch(replica, old, 3);
  await dc.agreedLeader([...olds, r1], 60_000);
  process.stdout.write(`# 3 servers + read replica: agreed leader ${Date.now() - t0} ms after launch\n`);
  // Sent the moment the election agrees, while etcd's members may still be joining: the store
  // holds it through the election (performance.rpc_hold_timeout) rather than failing it.
  assert.equal(await (await fetch(`${olds[0].http}/v1/kv/upgrade/k`, { method: 'PUT', body: 'v1' })).text(), 'true');
  assert.equal(await (await fetch(`${r1.http}/v1/kv/upgrade/k?raw&consistent`)).text(), 'v1');

  const newer = await Promise.all(['n1', 'n2', 'n3'].map((n) => dc.prepare(n, { node_meta: { build: '2.0.0' }, autopilot })));
  const n1 = dc.launch(newer[0], old, 3);
  const waiting = await until('n1 waiting as a non-voter', 60_000, async () => {
    const st = await autopilotState(olds[0]);
    const me = Object.values(st?.Servers ?? {}).find((s) => s.Name === 'n1');
    return me && st?.Upgrade?.Status === 'await-new-voters' ? st : undefined;
  });
  assert.equal(waiting.Upgrade!.TargetVersion, '2.0.0');
  assert.equal(waiting.Voters.length, 3);
  const n1Id = Object.keys(waiting.Servers).find((id) => waiting.Servers[id].Name === 'n1')!;
  assert.ok(!waiting.Voters.includes(n1Id), 'the new server waits as a non-voter');
  const r1Id = Object.keys(waiting.Servers).find((id) => waiting.Servers[id].Name === 'r1')!;
  assert.deepEqual(waiting.ReadReplicas, [r1Id]);
  assert.equal(waiting.Servers[r1Id].NodeType, 'read-replica');
  assert.equal(waiting.Servers[r1Id].UpgradeVersion, '1.0.0');

  const t1 = Date.now();
  const rest = newer.slice(1).map((p) => dc.launch(p, old, 3));
  const news = [n1, ...rest];
  const everyone = [...olds, r1, ...news];
  const done = await until('voting and leadership on the new servers', 120_000, async () => {
    const c = await raft(n1);
    const voters = c?.Servers.filter((s) => s.Voter).map((s) => s.Node).sort().join();
    const leader = c?.Servers.find((s) => s.Leader)?.Node ?? '';
    return voters === 'n1,n2,n3' && leader.startsWith('n') ? c : undefined;
  });
  const leaderAddr = await dc.agreedLeader(everyone);
  process.stdout.write(`# upgrade: 3 new servers voting, leader ${leaderAddr}, ${Date.now() - t1} ms after the 2nd and 3rd were launched\n`);
  assert.ok(news.some((s) => s.server === leaderAddr));
  assert.deepEqual(done.Servers.filter((s) => !s.Voter).map((s) => s.Node).sort(), ['o1', 'o2', 'o3', 'r1'], 'old servers and the replica remain as non-voters');

  const st = await until('upgrade awaiting server removal', 30_000, async () => {
    const x = await autopilotState(n1);
    return x?.Upgrade?.Status === 'await-server-removal' ? x : undefined;
  });
  const name = (id: string) => st.Servers[id]?.Name;
  assert.deepEqual(st.Upgrade!.TargetVersionVoters!.map(name).sort(), ['n1', 'n2', 'n3']);
  assert.deepEqual(st.Upgrade!.OtherVersionNonVoters!.map(name).sort(), ['o1', 'o2', 'o3']);
  assert.deepEqual(st.Upgrade!.OtherVersionReadReplicas!.map(name), ['r1']);
  const members = await until('etcd voters are the new servers', 30_000, async () => {
    const m = await etcdMembers(n1);
    return m.voters.join() === 'n1,n2,n3' ? m : undefined;
  });
  assert.ok(!members.all.includes('r1'), 'the read replica is never an etcd member');

  // Data intact and writable through every kind of server.
  assert.equal(await (await fetch(`${news[2].http}/v1/kv/upgrade/k?raw&consistent`)).text(), 'v1');
  assert.equal(await (await fetch(`${olds[1].http}/v1/kv/upgrade/after`, { method: 'PUT', body: 'v2' })).text(), 'true');
  assert.equal(await (await fetch(`${r1.http}/v1/kv/upgrade/after?raw&consistent`)).text(), 'v2');
});
