// Three server agents on one 3-member etcd cluster: exactly one leader that every server
// reports, failover when the leader stops (its leader duties move with it: a TTL session made
// before the failover still expires on time), transfer-leader, list-peers, and a blocking
// query on a follower woken by a write through another server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { startEtcd, type EtcdCluster } from './support/etcd.ts';
import { memoryIO } from '../src/cli/io.ts';
import { runCli as run } from '../src/cli/registry.ts';
import { waitFor } from './support/wait.ts';

let etcd: EtcdCluster;
const agents: DevAgent[] = [];
const live = () => agents.filter((a) => !stopped.has(a));
const stopped = new Set<DevAgent>();
const url = (a: DevAgent, path: string) => `http://${a.httpAddr}${path}`;
const runCli = async (args: string[], io: ReturnType<typeof memoryIO>) => ({ code: await run(args, io), out: io.out, err: io.err });
const json = async <T>(a: DevAgent, path: string, init?: RequestInit): Promise<T> => (await (await fetch(url(a, path), init)).json()) as T;

before(async () => {
  etcd = await startEtcd(3);
  const store = { backend: 'etcd' as const, etcd: { endpoints: etcd.endpoints } };
  for (const [i, nodeName] of ['s1', 's2', 's3'].entries()) {
    agents.push(await startDevAgent({ config: { store, nodeName, advertiseAddr: `127.0.0.${i + 1}`, sessionTtlMin: 1000 } }));
  }
});

after(async () => {
  for (const a of agents) if (!stopped.has(a)) await a.stop();
  await etcd?.stop();
});

/** The one agent that says it leads, once all live agents agree on the leader's address. */
async function settledLeader(timeoutMs = 10_000): Promise<DevAgent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leaders = live().filter((a) => a.agent.leaderSide.election.isLeader());
    const seen = new Set(await Promise.all(live().map((a) => json<string>(a, '/v1/status/leader'))));
    if (leaders.length === 1 && seen.size === 1 && [...seen][0] === leaders[0].agent.leaderSide.election.self().Address) return leaders[0];
    if (Date.now() > deadline) throw new Error(`no settled leader: ${leaders.length} leaders, addresses ${[...seen].join(',')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every live agent lists `n` peers (server records propagate through the store). */
async function settledPeers(n: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await Promise.all(live().map(async (a) => (await json<string[]>(a, '/v1/status/peers')).length));
    if (counts.every((c) => c === n)) return;
    if (Date.now() > deadline) throw new Error(`peers never settled at ${n}: ${counts.join(',')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('exactly one leader; status/leader, peers and headers agree on every server', async () => {
  const leader = await settledLeader();
  await settledPeers(3);
  for (const a of live()) {
    const peers = await json<string[]>(a, '/v1/status/peers');
    assert.deepEqual(peers.sort(), ['127.0.0.1:8300', '127.0.0.2:8300', '127.0.0.3:8300']);
    const res = await fetch(url(a, '/v1/kv/x?stale'));
    assert.equal(res.headers.get('x-consul-knownleader'), 'true');
    const contact = Number(res.headers.get('x-consul-lastcontact'));
    if (a === leader) assert.equal(contact, 0);
    else assert.ok(contact < 3000, `follower last contact ${contact} ms`);
  }
});

test('operator raft configuration and list-peers show three voters and one leader', async () => {
  const leader = await settledLeader();
  await settledPeers(3);
  const cfg = await json<{ Servers: { Node: string; Leader: boolean; Voter: boolean; Address: string }[]; Index: number }>(agents[1], '/v1/operator/raft/configuration');
  assert.deepEqual(cfg.Servers.map((s) => s.Node), ['s1', 's2', 's3']);
  assert.equal(cfg.Servers.filter((s) => s.Leader).length, 1);
  assert.equal(cfg.Servers.find((s) => s.Leader)!.Address, leader.agent.leaderSide.election.self().Address);
  assert.ok(cfg.Servers.every((s) => s.Voter) && cfg.Index > 0);
  const out = await runCli(['operator', 'raft', 'list-peers', `-http-addr=${agents[2].httpAddr}`], memoryIO());
  assert.equal(out.code, 0, out.err);
  const lines = out.out.trim().split('\n');
  assert.match(lines[0], /^Node\s+ID\s+Address\s+State\s+Voter\s+RaftProtocol/);
  assert.equal(lines.length, 4);
  assert.equal(lines.filter((l) => /\sleader\s/.test(l)).length, 1);
});

test('autopilot: default configuration, CAS update, health of three servers', async () => {
  const a = agents[0];
  const cfg = await json<{ CleanupDeadServers: boolean; LastContactThreshold: string; MaxTrailingLogs: number; ModifyIndex: number }>(a, '/v1/operator/autopilot/configuration');
  assert.equal(cfg.CleanupDeadServers, true);
  assert.equal(cfg.LastContactThreshold, '200ms');
  assert.equal(cfg.MaxTrailingLogs, 250);
  const put = await fetch(url(a, '/v1/operator/autopilot/configuration?cas=0'), { method: 'PUT', body: JSON.stringify({ maxtrailinglogs: 300 }) });
  assert.equal(await put.json(), true);
  const now = await json<{ MaxTrailingLogs: number; ModifyIndex: number }>(agents[1], '/v1/operator/autopilot/configuration');
  assert.equal(now.MaxTrailingLogs, 300);
  const stale = await fetch(url(a, `/v1/operator/autopilot/configuration?cas=${now.ModifyIndex - 1}`), { method: 'PUT', body: '{"MaxTrailingLogs": 1}' });
  assert.equal(await stale.json(), false);
  const health = await fetch(url(agents[2], '/v1/operator/autopilot/health'));
  const body = (await health.json()) as { Healthy: boolean; FailureTolerance: number; Servers: unknown[] };
  assert.equal(body.Servers.length, 3);
  assert.equal(health.status, body.Healthy ? 200 : 429);
});

test('a blocking query on a follower wakes on a write made through another server', async () => {
  const leader = await settledLeader();
  const follower = live().find((a) => a !== leader)!;
  await fetch(url(leader, '/v1/kv/ha/k'), { method: 'PUT', body: 'one' });
  const first = await fetch(url(follower, '/v1/kv/ha/k?consistent'));
  const idx = Number(first.headers.get('x-consul-index'));
  const blocked = fetch(url(follower, `/v1/kv/ha/k?index=${idx}&wait=10s`));
  await new Promise((r) => setTimeout(r, 100));
  await fetch(url(leader, '/v1/kv/ha/k'), { method: 'PUT', body: 'two' });
  const woke = await blocked;
  assert.ok(Number(woke.headers.get('x-consul-index')) > idx);
  const [pair] = (await woke.json()) as { Value: string }[];
  assert.equal(Buffer.from(pair.Value, 'base64').toString(), 'two');
});

test('transfer-leader moves leadership to the named server', async () => {
  const leader = await settledLeader();
  const target = live().find((a) => a !== leader)!;
  const id = target.agent.leaderSide.election.self().ID;
  const res = await json<{ Success: boolean }>(leader, `/v1/operator/raft/transfer-leader?id=${id}`, { method: 'POST' });
  assert.deepEqual(res, { Success: true });
  assert.equal(await settledLeader(), target);
  const out = await runCli(['operator', 'raft', 'transfer-leader', `-http-addr=${target.httpAddr}`], memoryIO());
  assert.equal(out.code, 0, out.err);
  assert.equal(out.out, 'Success\n');
  assert.notEqual(await settledLeader(), target);
});

test('stopping the leader elects another whose duties run: an earlier TTL session still expires', async () => {
  const leader = await settledLeader();
  const follower = live().find((a) => a !== leader)!;
  // Created on a follower, renewed once on another follower: the leader must learn of both.
  const { ID } = await json<{ ID: string }>(follower, '/v1/session/create', { method: 'PUT', body: JSON.stringify({ TTL: '1s', Node: follower.agent.config.nodeName, LockDelay: '0s', Checks: [] }) });
  const other = live().find((a) => a !== leader && a !== follower)!;
  assert.equal((await fetch(url(other, `/v1/session/renew/${ID}`), { method: 'PUT' })).status, 200);
  const t0 = Date.now();
  stopped.add(leader);
  await leader.stop();
  const next = await settledLeader();
  const failoverMs = Date.now() - t0;
  assert.ok(next !== leader && failoverMs < 5000, `failover took ${failoverMs} ms`);
  process.stdout.write(`# graceful leader stop → new leader in ${failoverMs} ms\n`);
  // The duties start after leadership is won (the barrier and the earlier duties first, each a
  // store round trip), so on a loaded machine the servers can all name the new leader before then.
  await waitFor('the session-ttl duty running on the new leader', () => next.agent.leaderSide.loops.active().includes('session-ttl'), { ms: 10_000 });
  // TTL 1s → invalidated 2×TTL after the new leader re-armed it (Consul's full re-arm).
  const deadline = Date.now() + 6000;
  for (;;) {
    const info = await json<unknown[]>(next, `/v1/session/info/${ID}`);
    if (info.length === 0) break;
    assert.ok(Date.now() < deadline, 'session never expired after failover');
    await new Promise((r) => setTimeout(r, 100));
  }
  const cfg = await json<{ Servers: { Node: string }[] }>(next, '/v1/operator/raft/configuration');
  assert.equal(cfg.Servers.length, 2);
});
