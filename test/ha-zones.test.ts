// Redundancy zones on a managed datacenter of real processes: five servers over three zones
// (node_meta zone, autopilot redundancy_zone_tag = "zone") start as five etcd voters and end
// with one voter per zone, the spares non-voters (one kept warm as the etcd learner); killing a
// zone's voter (agent and etcd) promotes that zone's spare and demotes the dead one; losing a
// whole zone makes another zone's standby an extra voter. Times printed.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManagedDc, getJson, until, type ManagedServer, type RaftConfig } from './support/managed-dc.ts';

const dc = new ManagedDc('zones');
// Also when the test is filtered out or never starts (stopAfter then never runs).
after(() => dc.stop());

interface AutopilotState {
  Leader: string;
  Voters: string[];
  Servers: Record<string, { Name: string; NodeType: string; RedundancyZone?: string; Status: string }>;
  RedundancyZones?: Record<string, { Servers: string[]; Voters: string[]; FailureTolerance: number }>;
}

const zoneOf: Record<string, string> = { s1: 'z1', s2: 'z2', s3: 'z3', s4: 'z1', s5: 'z2' };

/** The voters once every live server lists the same ones, exactly one per zone, and no etcd learner is being promoted. */
async function oneVoterPerZone(via: ManagedServer[], ms: number): Promise<string[]> {
  return until('one voter per zone', ms, async () => {
    const seen = await Promise.all(via.map((s) => getJson<RaftConfig>(`${s.http}/v1/operator/raft/configuration`)));
    if (seen.some((c) => !c)) return undefined;
    const voters = seen.map((c) => c!.Servers.filter((x) => x.Voter).map((x) => x.Node).sort().join(','));
    if (voters.some((v) => v !== voters[0])) return undefined;
    const names = voters[0].split(',').filter(Boolean);
    const zones = new Set(names.map((n) => zoneOf[n]));
    return names.length === 3 && zones.size === 3 ? names : undefined;
  });
}

test('five servers in three zones keep one voter per zone; a dead zone voter is replaced by its zone\'s spare', async (t) => {
  dc.stopAfter(t);
  const autopilot = { redundancy_zone_tag: 'zone', server_stabilization_time: '2s', last_contact_threshold: '2s' };
  const prepared = await Promise.all(Object.keys(zoneOf).map((n) => dc.prepare(n, { node_meta: { zone: zoneOf[n] }, autopilot })));
  const t0 = Date.now();
  const all = prepared.map((p) => dc.launch(p, prepared, 5));
  await dc.agreedLeader(all, 60_000);
  const voters = await oneVoterPerZone(all, 90_000);
  process.stdout.write(`# 5 servers / 3 zones: one voter per zone (${voters.join(', ')}) ${Date.now() - t0} ms after launch\n`);

  const byName = new Map(all.map((s) => [s.node, s]));
  const state = await until('zone state with a warm standby', 30_000, async () => {
    const st = await getJson<AutopilotState>(`${all[0].http}/v1/operator/autopilot/state`);
    const types = Object.values(st?.Servers ?? {}).map((s) => s.NodeType).sort();
    return types.join() === 'zone-standby,zone-standby,zone-voter,zone-voter,zone-voter' ? st : undefined;
  });
  assert.deepEqual(Object.keys(state.RedundancyZones ?? {}).sort(), ['z1', 'z2', 'z3']);
  for (const [zone, z] of Object.entries(state.RedundancyZones!)) {
    assert.equal(z.Voters.length, 1, `zone ${zone} has one voter`);
    assert.equal(state.Servers[z.Voters[0]].RedundancyZone, zone);
  }
  assert.equal(state.Voters.length, 3);
  const etcdVoters = await until('etcd has three voting members', 30_000, async () => {
    const res = await fetch(`${byName.get(voters[0])!.etcdClient}/v3/cluster/member/list`, { method: 'POST', body: '{}' }).catch(() => null);
    const members = ((await res?.json()) as { members?: { name?: string; isLearner?: boolean }[] } | undefined)?.members ?? [];
    const v = members.filter((m) => !m.isLearner).map((m) => m.name!).sort();
    return v.join() === voters.join() ? v : undefined;
  });
  assert.deepEqual(etcdVoters, voters);

  // A write through a standby (non-voter) works and is readable everywhere.
  const standby = all.find((s) => !voters.includes(s.node))!;
  assert.equal(await (await fetch(`${standby.http}/v1/kv/zones/k`, { method: 'PUT', body: 'v1' })).text(), 'true');

  // Kill the voter of a zone that has a spare (z1 or z2), not the leader.
  const leaderAddr = await dc.agreedLeader(all);
  const victim = all.find((s) => voters.includes(s.node) && zoneOf[s.node] !== 'z3' && s.server !== leaderAddr)!;
  const spare = all.find((s) => s !== victim && zoneOf[s.node] === zoneOf[victim.node])!;
  const rest = all.filter((s) => s !== victim);
  const t1 = Date.now();
  dc.killHard(victim);
  const after = await until(`${spare.node} voting in place of ${victim.node}`, 90_000, async () => {
    const v = await oneVoterPerZone(rest, 2_000).catch(() => undefined);
    return v?.includes(spare.node) && !v.includes(victim.node) ? v : undefined;
  });
  process.stdout.write(`# zone ${zoneOf[victim.node]} voter ${victim.node} killed → its spare ${spare.node} voting ${Date.now() - t1} ms later (voters ${after.join(', ')})\n`);
  assert.ok(after.includes(spare.node));
  assert.ok(!after.includes(victim.node));
  assert.equal(await (await fetch(`${spare.http}/v1/kv/zones/k?raw&consistent`)).text(), 'v1');
  assert.equal(await (await fetch(`${rest[0].http}/v1/kv/zones/after`, { method: 'PUT', body: 'v2' })).text(), 'true');

  // Lose zone z3 entirely: the remaining standby (other zone) votes as an extra voter.
  const z3 = byName.get('s3')!;
  const left = rest.filter((s) => s !== z3);
  const t2 = Date.now();
  dc.killHard(z3);
  const extra = await until('an extra voter for the lost zone', 90_000, async () => {
    const st = await getJson<AutopilotState>(`${left[0].http}/v1/operator/autopilot/state`);
    const extras = Object.values(st?.Servers ?? {}).filter((x) => x.NodeType === 'zone-extra-voter' && x.Status !== 'non-voter');
    return st && st.Voters.length === 3 && extras.length === 1 && !st.Voters.some((id) => st.Servers[id]?.Name === 's3') ? extras[0] : undefined;
  });
  process.stdout.write(`# zone z3 lost → ${extra.Name} (zone ${extra.RedundancyZone}) votes as an extra voter ${Date.now() - t2} ms later\n`);
  assert.equal(await (await fetch(`${extra.Name === left[0].node ? left[1].http : left[0].http}/v1/kv/zones/k?raw&consistent`)).text(), 'v1');
});
