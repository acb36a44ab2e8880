// Consul's memberlist, ACL token cache and server RPC metrics on real processes: a server on
// 127.0.0.41 (its LAN and WAN pools) and a client agent on 127.0.0.42, ACLs on (default deny).
// The client's join and the probes between them count in memberlist.* labelled network="lan"
// (the server's lone WAN pool still gossips and reports its health, network="wan"); a token the
// client has not seen is a cache_miss, then a cache_hit; a ?consistent read is an
// rpc.consistentRead sample and a connection to the server port an rpc.accept_conn; killing the
// client makes the server suspect it, then mark it dead. JSON and Prometheus.
import assert from 'node:assert/strict';
import net from 'node:net';
import { before, test } from 'node:test';
import { DcProcs, type Proc } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

const MGMT = 'a3c0e2b1-57f4-4a55-9d2e-6f7b8c9d0e11';
const dcs = new DcProcs('metrics-memberlist');
const POLL = dcs.poll;
let s1: Proc;
let c1: Proc;

interface Summary {
  Gauges: { Name: string; Value: number; Labels: Record<string, string> }[];
  Counters: { Name: string; Count: number; Labels: Record<string, string> }[];
  Samples: { Name: string; Count: number; Labels: Record<string, string> }[];
}

/** A request to `p` under `token`. */
async function as(p: Proc, token: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; text: string; json: any }> {
  const r = await fetch(`${p.http}${urlPath}`, {
    method, headers: { 'X-Consul-Token': token }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, text, json };
}

const metrics = async (p: Proc): Promise<Summary> => (await as(p, MGMT, 'GET', '/v1/agent/metrics')).json as Summary;
const prometheus = async (p: Proc): Promise<string> => (await as(p, MGMT, 'GET', '/v1/agent/metrics?format=prometheus')).text;
const counter = (s: Summary, name: string, labels: Record<string, string> = {}) =>
  s.Counters.find((c) => c.Name === `consul.${name}` && Object.entries(labels).every(([k, v]) => c.Labels[k] === v))?.Count ?? 0;
const samples = (s: Summary, name: string, labels: Record<string, string> = {}) =>
  s.Samples.find((c) => c.Name === `consul.${name}` && Object.entries(labels).every(([k, v]) => c.Labels[k] === v))?.Count ?? 0;

before(async () => {
  const acl = { enabled: true, default_policy: 'deny', down_policy: 'extend-cache', tokens: { initial_management: MGMT, agent: MGMT } };
  const telemetry = { telemetry: { prometheus_retention_time: '60s', disable_hostname: true } };
  s1 = await dcs.add('s1', 'dc1', '127.0.0.41', { ...telemetry, acl });
  c1 = await dcs.add('c1', 'dc1', '127.0.0.42', { ...telemetry, acl: { ...acl, tokens: { agent: MGMT } } }, { wan: false });
  dcs.launchServer(s1);
  dcs.launchClient(c1, s1);
  await until('c1 alive in s1\'s LAN pool', 30_000, async () => {
    const ms = (await as(s1, MGMT, 'GET', '/v1/agent/members').catch(() => undefined))?.json as { Name: string; Status: number }[] | undefined;
    return ms?.some((m) => m.Name === 'c1' && m.Status === 1) ?? false;
  }, POLL);
});

test('memberlist.* on both agents after the join and the probes, labelled by network', async () => {
  // Each probes the other once a second: wait for a probe each way.
  await until('a probe on each agent', 20_000, async () =>
    samples(await metrics(s1), 'memberlist.probeNode', { network: 'lan' }) > 0 && samples(await metrics(c1), 'memberlist.probeNode', { network: 'lan' }) > 0, POLL);
  const s = await metrics(s1);
  const c = await metrics(c1);
  // The client's join is a push-pull it opened and the server accepted.
  assert.ok(counter(c, 'memberlist.tcp.connect', { network: 'lan' }) >= 1);
  assert.ok(counter(s, 'memberlist.tcp.accept', { network: 'lan' }) >= 1);
  assert.ok(samples(c, 'memberlist.pushPullNode', { network: 'lan' }) >= 1);
  // Both sides of that push-pull sent their state and took the other's.
  for (const m of [s, c]) {
    assert.ok((m.Gauges.find((g) => g.Name === 'consul.memberlist.size.local' && g.Labels.network === 'lan')?.Value ?? 0) > 0);
    assert.ok(samples(m, 'memberlist.size.remote', { network: 'lan' }) >= 1);
  }
  const instances = (state: string) => s.Gauges.find((g) => g.Name === 'consul.memberlist.node.instances' && g.Labels.network === 'lan' && g.Labels.node_state === state)?.Value;
  assert.deepEqual(['alive', 'suspect', 'dead', 'left'].map(instances), [2, 0, 0, 0]);
  for (const m of [s, c]) {
    assert.ok(counter(m, 'memberlist.tcp.sent', { network: 'lan' }) > 0);
    assert.ok(counter(m, 'memberlist.udp.sent', { network: 'lan' }) > 0);
    assert.ok(counter(m, 'memberlist.udp.received', { network: 'lan' }) > 0);
    assert.ok(counter(m, 'memberlist.msg.alive', { network: 'lan' }) >= 1);
    assert.ok(samples(m, 'memberlist.gossip', { network: 'lan' }) > 0);
    assert.deepEqual(m.Gauges.find((g) => g.Name === 'consul.memberlist.health.score' && g.Labels.network === 'lan')?.Value, 0);
  }
  // Only the server has a WAN pool: alone in it, it still gossips every round and has a health score.
  assert.ok(samples(s, 'memberlist.gossip', { network: 'wan' }) > 0);
  assert.equal(s.Gauges.find((g) => g.Name === 'consul.memberlist.health.score' && g.Labels.network === 'wan')?.Value, 0);
  assert.equal(c.Gauges.find((g) => g.Name === 'consul.memberlist.health.score' && g.Labels.network === 'wan'), undefined);

  const prom = await prometheus(s1);
  for (const name of ['msg_alive', 'tcp_accept', 'tcp_sent', 'udp_sent', 'udp_received']) {
    assert.match(prom, new RegExp(`^# TYPE consul_memberlist_${name} counter$`, 'm'), name);
    assert.match(prom, new RegExp(`^consul_memberlist_${name}\\{network="lan"\\} [1-9]\\d*$`, 'm'), name);
  }
  assert.match(prom, /^# TYPE consul_memberlist_probeNode summary$/m);
  assert.match(prom, /^consul_memberlist_probeNode_count\{network="lan"\} [1-9]\d*$/m);
  assert.match(prom, /^# TYPE consul_memberlist_gossip summary$/m);
  assert.match(prom, /^consul_memberlist_gossip_count\{network="wan"\} [1-9]\d*$/m);
  assert.match(prom, /^# TYPE consul_memberlist_health_score gauge$/m);
  assert.match(prom, /^consul_memberlist_health_score\{network="lan"\} 0$/m);
  assert.match(prom, /^consul_memberlist_health_score\{network="wan"\} 0$/m);
  assert.match(prom, /^# TYPE consul_memberlist_node_instances gauge$/m);
  assert.match(prom, /^consul_memberlist_node_instances\{network="lan",node_state="alive"\} 2$/m);
  assert.match(prom, /^consul_memberlist_node_instances\{network="wan",node_state="alive"\} 1$/m);
  assert.match(prom, /^# TYPE consul_memberlist_pushPullNode summary$/m);
  assert.match(prom, /^# TYPE consul_memberlist_size_local gauge$/m);
});

test('acl.token.cache_miss then cache_hit on the client agent for a token it had not seen', async () => {
  const made = await as(s1, MGMT, 'PUT', '/v1/acl/token', { Policies: [{ ID: '00000000-0000-0000-0000-000000000001' }] });
  assert.equal(made.status, 200, made.text);
  const secret = made.json.SecretID as string;
  const before = await metrics(c1);
  assert.equal((await as(c1, secret, 'GET', '/v1/agent/members')).status, 200);
  const afterMiss = await metrics(c1);
  assert.ok(counter(afterMiss, 'acl.token.cache_miss') >= counter(before, 'acl.token.cache_miss') + 1);
  assert.equal((await as(c1, secret, 'GET', '/v1/agent/members')).status, 200);
  const afterHit = await metrics(c1);
  assert.ok(counter(afterHit, 'acl.token.cache_hit') >= counter(afterMiss, 'acl.token.cache_hit') + 1);
  const prom = await prometheus(c1);
  assert.match(prom, /^# TYPE consul_acl_token_cache_hit counter$/m);
  assert.match(prom, /^consul_acl_token_cache_hit [1-9]\d*$/m);
  assert.match(prom, /^# TYPE consul_acl_token_cache_miss counter$/m);
  assert.match(prom, /^consul_acl_token_cache_miss [1-9]\d*$/m);
  // The server resolves tokens from its own state (the primary): nothing cached, nothing counted, as Consul.
  assert.doesNotMatch(await prometheus(s1), /^consul_acl_token_cache_hit [1-9]/m);
});

test('rpc.consistentRead for a ?consistent read and rpc.accept_conn for a connection to the server port', async () => {
  const before = await metrics(s1);
  assert.equal((await as(s1, MGMT, 'GET', '/v1/kv/nothing?consistent')).status, 404);
  const after = await metrics(s1);
  assert.ok(samples(after, 'rpc.consistentRead') >= samples(before, 'rpc.consistentRead') + 1);
  // No consistent read on the client agent (it forwards): no samples there.
  assert.equal(samples(await metrics(c1), 'rpc.consistentRead'), 0);

  const members = (await as(s1, MGMT, 'GET', '/v1/agent/members')).json as { Name: string; Tags: Record<string, string> }[];
  const port = Number(members.find((m) => m.Name === 's1')!.Tags.port);
  const acceptedBefore = counter(await metrics(s1), 'rpc.accept_conn');
  // The client agent's RPCs came through this port already.
  assert.ok(acceptedBefore >= 1);
  await new Promise<void>((resolve, reject) => {
    const sock = net.connect({ host: s1.ip, port }, () => { sock.end(); resolve(); });
    sock.on('error', reject);
  });
  await until('the connection counted', 5_000, async () => counter(await metrics(s1), 'rpc.accept_conn') >= acceptedBefore + 1, POLL);
  const prom = await prometheus(s1);
  assert.match(prom, /^# TYPE consul_rpc_consistentRead summary$/m);
  assert.match(prom, /^consul_rpc_consistentRead_count [1-9]\d*$/m);
  assert.match(prom, /^# TYPE consul_rpc_accept_conn counter$/m);
  assert.match(prom, /^consul_rpc_accept_conn [1-9]\d*$/m);
});

test('memberlist.msg.suspect and msg.dead on the server once the client stops answering', async () => {
  const before = await metrics(s1);
  assert.equal(counter(before, 'memberlist.msg.suspect', { network: 'lan' }), 0);
  assert.equal(counter(before, 'memberlist.msg.dead', { network: 'lan' }), 0);
  c1.child!.kill('SIGKILL');
  await until('c1 failed in s1\'s pool', 30_000, async () =>
    counter(await metrics(s1), 'memberlist.msg.dead', { network: 'lan' }) >= 1, POLL);
  const after = await metrics(s1);
  assert.ok(counter(after, 'memberlist.msg.suspect', { network: 'lan' }) >= 1);
  const prom = await prometheus(s1);
  assert.match(prom, /^# TYPE consul_memberlist_msg_suspect counter$/m);
  assert.match(prom, /^consul_memberlist_msg_suspect\{network="lan"\} [1-9]\d*$/m);
  assert.match(prom, /^consul_memberlist_msg_dead\{network="lan"\} [1-9]\d*$/m);
  assert.match(prom, /^consul_memberlist_node_instances\{network="lan",node_state="dead"\} 1$/m);
});
