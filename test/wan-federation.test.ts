// Two datacenters on real processes: one `proconsul agent -server` per datacenter (embedded
// store each) on 127.0.0.2 (dc1) and 127.0.0.3 (dc2), dc2 joined to dc1 over the WAN pool with
// -retry-join-wan. Both see the WAN members and both datacenters (nearest first), requests with
// ?dc=dc2 sent to dc1 are answered by dc2 (KV writes land there, its catalog is readable), an
// unknown datacenter is Consul's 500, and dc1's DNS answers web.service.dc2.consul from dc2, as
// does a dc1 client agent under its own domain and TTLs; a prepared query asked for dc2 from dc1
// runs there for the dc1 agent (no Near _agent sort over DNS), over HTTP with dc1's agent and the
// caller's address.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { before, test } from 'node:test';
import { call, DcProcs, get } from './support/dc-procs.ts';
import { digAt } from './support/dns.ts';
import { freePort } from './support/ports.ts';
import { spawnProconsul } from './support/procs.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('wan');
const procs = dcs.procs;
/** A timeout shows the tail of every server's log. */
const POLL = dcs.poll;

async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  let out = '';
  const child = spawnProconsul(args, (text) => { out += text; });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out };
}

type WanMember = { Name: string; Addr: string; Port: number; Status: number; Tags: Record<string, string> };

before(async () => {
  for (const [node, dc, ip] of [['s1', 'dc1', '127.0.0.2'], ['s2', 'dc2', '127.0.0.3']]) {
    // Fast WAN probes so that the coordinates of the other datacenter arrive within the test.
    await dcs.add(node, dc, ip, { gossip_wan: { probe_interval: '200ms', probe_timeout: '100ms' } });
  }
  const [dc1, dc2] = procs;
  dcs.launchServer(dc1);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) {
    await until(`${p.node} to list both WAN members alive`, 30_000, async () => {
      const ms = await get<WanMember[]>(p, '/v1/agent/members?wan=1');
      return ms?.length === 2 && ms.every((m) => m.Status === 1);
    }, POLL);
  }
});

test('both servers list each other in the WAN pool as <node>.<dc> with Consul\'s server tags', async () => {
  const [dc1, dc2] = procs;
  const ms = (await get<WanMember[]>(dc1, '/v1/agent/members?wan=1'))!.sort((a, b) => a.Name.localeCompare(b.Name));
  assert.deepEqual(ms.map((m) => [m.Name, m.Addr, m.Port, m.Tags.dc, m.Tags.role]), [
    ['s1.dc1', dc1.ip, dc1.wan, 'dc1', 'consul'], ['s2.dc2', dc2.ip, dc2.wan, 'dc2', 'consul'],
  ]);
  assert.equal(ms[0].Tags.wan_join_port, undefined, 'wan_join_port is a LAN tag');
  assert.ok(ms[0].Tags.port, 'the server RPC port');
  const stats = (await get<{ Stats: Record<string, Record<string, string>> }>(dc1, '/v1/agent/self'))!.Stats;
  assert.deepEqual([stats.serf_wan.members, stats.serf_wan.failed, stats.consul.known_datacenters], ['2', '0', '2']);
  // The LAN pool is untouched: each server is alone in its datacenter.
  assert.deepEqual((await get<WanMember[]>(dc1, '/v1/agent/members'))!.map((m) => m.Name), ['s1']);
  const out = await cli(['members', '-wan', `-http-addr=${dc2.http}`]);
  assert.equal(out.code, 0, out.out);
  assert.match(out.out, /^Node\s+Address\s+Status\s+Type\s+Build\s+Protocol\s+DC\s+Partition\s+Segment\n/);
  assert.match(out.out, new RegExp(`\\ns1\\.dc1\\s+127\\.0\\.0\\.2:${dc1.wan}\\s+alive\\s+server\\s+\\S+\\s+2\\s+dc1\\s+default\\s+<all>\\n`));
  assert.match(out.out, new RegExp(`\\ns2\\.dc2\\s+127\\.0\\.0\\.3:${dc2.wan}\\s+alive\\s+server\\s+\\S+\\s+2\\s+dc2\\s+default\\s+<all>`));
  // Joining a server already in the pool again succeeds; the LAN join of a client-only endpoint is separate.
  const join = await cli(['join', '-wan', `-http-addr=${dc2.http}`, `${dc1.ip}:${dc1.wan}`]);
  assert.equal(join.out.trim(), 'Successfully joined cluster by contacting 1 nodes.');
});

test('catalog/datacenters lists both, the local datacenter first; coordinate/datacenters has each server', async () => {
  const [dc1, dc2] = procs;
  assert.deepEqual(await get(dc1, '/v1/catalog/datacenters'), ['dc1', 'dc2']);
  assert.deepEqual(await get(dc2, '/v1/catalog/datacenters'), ['dc2', 'dc1']);
  type DcMap = { Datacenter: string; AreaID: string; Coordinates: { Node: string; Segment: string; Coord: { Vec: number[] } }[] };
  const maps = await until('both datacenters in coordinate/datacenters', 20_000, async () => {
    const m = await get<DcMap[]>(dc1, '/v1/coordinate/datacenters');
    return m?.length === 2 ? m : undefined;
  }, POLL);
  assert.deepEqual(maps.map((m) => [m.Datacenter, m.AreaID, m.Coordinates.map((c) => c.Node)]), [['dc1', 'wan', ['s1']], ['dc2', 'wan', ['s2']]]);
  assert.equal(maps[1].Coordinates[0].Coord.Vec.length, 8);
  const out = await cli(['catalog', 'datacenters', `-http-addr=${dc1.http}`]);
  assert.equal(out.out, 'dc1\ndc2\n');
  const rtt = await cli(['rtt', '-wan', `-http-addr=${dc1.http}`, 's2.dc2']);
  assert.match(rtt.out, /^Estimated s2\.dc2 <-> s1\.dc1 rtt: \d+\.\d{3} ms \(using WAN coordinates\)\n$/);
});

test('a KV write with ?dc=dc2 sent to dc1 lands in dc2 only', async () => {
  const [dc1, dc2] = procs;
  const put = await call(dc1, 'PUT', '/v1/kv/federated/key?dc=dc2', 'from-dc1');
  assert.equal(put.status, 200, put.text);
  assert.equal(put.text, 'true');
  assert.equal((await call(dc2, 'GET', '/v1/kv/federated/key?raw')).text, 'from-dc1');
  assert.equal((await call(dc1, 'GET', '/v1/kv/federated/key')).status, 404);
  const viaDc1 = await call(dc1, 'GET', '/v1/kv/federated/key?dc=dc2');
  assert.equal(viaDc1.status, 200);
  assert.equal(Buffer.from((JSON.parse(viaDc1.text) as { Value: string }[])[0].Value, 'base64').toString(), 'from-dc1');
  assert.ok(Number(viaDc1.headers.get('x-consul-index')) > 0, 'dc2\'s index comes back');
  const cliGet = await cli(['kv', 'get', '-datacenter=dc2', `-http-addr=${dc1.http}`, 'federated/key']);
  assert.equal(cliGet.out, 'from-dc1\n');
});

test('a dc2 service is visible from dc1 with ?dc=dc2, and dc1\'s DNS answers web.service.dc2.consul', async () => {
  const [dc1, dc2] = procs;
  const reg = await call(dc2, 'PUT', '/v1/agent/service/register', JSON.stringify({ Name: 'web', ID: 'web-1', Address: '10.20.0.7', Port: 8080 }));
  assert.equal(reg.status, 200, reg.text);
  const svc = await until('web in dc2\'s catalog through dc1', 10_000, async () => {
    const s = await get<{ Node: string; Datacenter: string; ServiceAddress: string; ServicePort: number }[]>(dc1, '/v1/catalog/service/web?dc=dc2');
    return s?.length ? s : undefined;
  }, POLL);
  assert.deepEqual(svc.map((s) => [s.Node, s.Datacenter, s.ServiceAddress, s.ServicePort]), [['s2', 'dc2', '10.20.0.7', 8080]]);
  assert.deepEqual(await get(dc1, '/v1/catalog/service/web'), [], 'dc1 has no such service');
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`${dc1.ip}:${dc1.dns}`]);
  assert.deepEqual(await resolver.resolve4('web.service.dc2.consul'), ['10.20.0.7']);
  assert.deepEqual(await resolver.resolveSrv('web.service.dc2.consul').then((r) => r.map((x) => x.port)), [8080]);
  assert.deepEqual(await resolver.resolve4('s2.node.dc2.consul'), [dc2.ip]);
  assert.deepEqual(await resolver.resolve4('web.service.dc2.dc.consul'), ['10.20.0.7']);
  await assert.rejects(resolver.resolve4('web.service.dc1.consul'), { code: 'ENOTFOUND' });
  await assert.rejects(resolver.resolve4('web.service.dc9.consul'), { code: 'ENOTFOUND' });

  // A dc1 client agent asks dc2 under its own domain and service_ttl (through dc1's server).
  const client = await dcs.add('c1', 'dc1', '127.0.0.5', { domain: 'pc', dns_config: { service_ttl: { '*': '9s' } } }, { wan: false });
  const dns = client.dns;
  dcs.launchClient(client, dc1);
  const viaClient = await until('web.service.dc2.pc through the client', 20_000, async () => {
    const r = await digAt(client.ip, dns, 'web.service.dc2.pc').catch(() => undefined);
    return r?.answer.length ? r : undefined;
  }, POLL);
  assert.deepEqual(viaClient.answer.map((a) => [a[0], a[1], a[4]]), [['web.service.dc2.pc.', '9', '10.20.0.7']]);
  const srv = await digAt(client.ip, dns, 'web.service.dc2.pc', 'SRV');
  assert.deepEqual(srv.answer.map((a) => a.slice(4).join(' ')), ['1 1 8080 0a140007.addr.dc2.pc.']);
  assert.equal((await digAt(client.ip, dns, 'web.service.dc2.consul')).status, 'REFUSED', 'consul is not the client domain');
  client.child!.kill('SIGKILL');
});

test('<query>.query.dc2 runs in dc2 for the asking dc1 agent: Near _agent or a node is not sorted there, as it is asked of dc2 itself', async () => {
  const [dc1, dc2] = procs;
  // pq on dc2's server and on four catalog nodes; the query sorts near the agent asked.
  const reg = await call(dc2, 'PUT', '/v1/agent/service/register', JSON.stringify({ Name: 'pq', ID: 'pq-1', Address: '10.20.0.9', Port: 80 }));
  assert.equal(reg.status, 200, reg.text);
  for (let i = 1; i <= 4; i++) {
    const r = await call(dc2, 'PUT', '/v1/catalog/register', JSON.stringify({ Node: `x${i}`, Address: `10.20.1.${i}`, Service: { ID: 'pq', Service: 'pq', Port: 80 } }));
    assert.equal(r.status, 200, r.text);
  }
  for (const [name, near] of [['nearq', '_agent'], ['nearx', 'x3']]) {
    const q = await call(dc2, 'POST', '/v1/query', JSON.stringify({ Name: name, Service: { Service: 'pq', Near: near } }));
    assert.equal(q.status, 200, q.text);
  }
  const firsts = async (ip: string, port: number, name: string): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await digAt(ip, port, name);
      assert.equal(r.answer.length, 5, r.raw);
      seen.add(r.answer[0][4]);
    }
    return seen;
  };
  await until('pq on s2 in dc2\'s catalog', 10_000, async () => (await get<unknown[]>(dc2, '/v1/catalog/service/pq'))?.length === 5, POLL);
  // Asked of dc2's server, _agent is that server: its own instance comes first every time, as x3's for Near x3.
  assert.deepEqual([...await firsts(dc2.ip, dc2.dns, 'nearq.query.consul')], ['10.20.0.9']);
  assert.deepEqual([...await firsts(dc2.ip, dc2.dns, 'nearx.query.consul')], ['10.20.1.3']);
  // Forwarded from dc1, Consul's Execute gets the dc1 agent (Agent.Datacenter dc1, the query source's
  // datacenter): no distance sort or source-first in dc2, only the shuffle, whatever Near names.
  assert.ok((await firsts(dc1.ip, dc1.dns, 'nearq.query.dc2.consul')).size > 1, 'dc1\'s server, Near _agent: shuffled in dc2');
  assert.ok((await firsts(dc1.ip, dc1.dns, 'nearx.query.dc2.consul')).size > 1, 'dc1\'s server, Near x3: shuffled in dc2');
  const client = await dcs.add('c2', 'dc1', '127.0.0.6', { domain: 'pc' }, { wan: false });
  dcs.launchClient(client, dc1);
  await until('nearq.query.dc2.pc through the client', 20_000, async () => (await digAt(client.ip, client.dns, 'nearq.query.dc2.pc').catch(() => undefined))?.answer.length === 5, POLL);
  try {
    assert.ok((await firsts(client.ip, client.dns, 'nearq.query.dc2.pc')).size > 1, 'a dc1 client, Near _agent: shuffled in dc2');
    assert.ok((await firsts(client.ip, client.dns, 'nearx.query.dc2.pc')).size > 1, 'a dc1 client, Near x3: shuffled in dc2');
  } finally {
    client.child!.kill('SIGKILL');
  }
});

test('/v1/query/<q>/execute?dc=dc2 asked of dc1\'s server keeps its Agent and Source there: _agent is dc1\'s server, _ip the caller', async () => {
  const [dc1, dc2] = procs;
  // The caller (this test) reaches 127.0.0.2 from 127.0.0.1; y4 holds dc1's server address, what dc2 saw before.
  for (const [node, address] of [['y1', '127.0.0.1'], ['y2', '10.20.2.2'], ['y3', '10.20.2.3'], ['y4', dc1.ip]]) {
    const r = await call(dc2, 'PUT', '/v1/catalog/register', JSON.stringify({ Node: node, Address: address, Service: { ID: 'pqip', Service: 'pqip', Port: 80 } }));
    assert.equal(r.status, 200, r.text);
  }
  const q = await call(dc2, 'POST', '/v1/query', JSON.stringify({ Name: 'nearip', Service: { Service: 'pqip', Near: '_ip' } }));
  assert.equal(q.status, 200, q.text);
  type Exec = { Datacenter: string; Nodes: { Node: { Node: string } }[] };
  const firsts = async (name: string): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = (await get<Exec>(dc1, `/v1/query/${name}/execute?dc=dc2`))!;
      assert.equal(r.Datacenter, 'dc2');
      seen.add(r.Nodes[0].Node.Node);
    }
    return seen;
  };
  assert.deepEqual([...await firsts('nearip')], ['y1'], 'the caller\'s address, not dc1\'s server\'s');
  // _agent names dc1's server (Agent.Node): no such node in dc2, so nothing is put first (dc2's server was, as the agent).
  assert.ok((await firsts('nearq')).size > 1, 'Near _agent: shuffled in dc2');
});

test('/v1/operator/usage?global asked of dc1 carries dc2\'s own counts; without it only dc1\'s', async () => {
  const [dc1, dc2] = procs;
  const reg = await call(dc2, 'PUT', '/v1/catalog/register', { Node: 'usage-node', Address: '10.9.0.1', Service: { ID: 'u1', Service: 'usage-svc' } });
  assert.equal(reg.status, 200, reg.text);
  const own = JSON.parse((await call(dc2, 'GET', '/v1/operator/usage')).text) as { Usage: Record<string, { ServiceInstances: number }> };
  const local = JSON.parse((await call(dc1, 'GET', '/v1/operator/usage')).text) as typeof own;
  assert.deepEqual(Object.keys(local.Usage), ['dc1']);
  const global = await call(dc1, 'GET', '/v1/operator/usage?global');
  assert.equal(global.status, 200, global.text);
  const g = JSON.parse(global.text) as typeof own;
  assert.deepEqual(Object.keys(g.Usage).sort(), ['dc1', 'dc2']);
  assert.deepEqual(g.Usage.dc2, own.Usage.dc2);
  assert.deepEqual(g.Usage.dc1, local.Usage.dc1);
  const out = await cli(['operator', 'usage', 'instances', '-all-datacenters', '-billable', `-http-addr=${dc1.http}`]);
  assert.equal(out.code, 0, out.out);
  assert.match(out.out, /\ndc2 Billable Service Instances: \d+\n/);
  assert.match(out.out, /\nDatacenter {6}Services {6}Service instances\ndc1 .*\ndc2 .*\n {30}\nTotal /);
});

test('an unknown datacenter is Consul\'s 500 No path to datacenter; agent endpoints ignore ?dc', async () => {
  const [dc1] = procs;
  const r = await call(dc1, 'GET', '/v1/kv/x?dc=dc9');
  assert.equal(r.status, 500);
  assert.equal(r.text, 'No path to datacenter');
  const self = await get<{ Config: { Datacenter: string } }>(dc1, '/v1/agent/self?dc=dc2');
  assert.equal(self?.Config.Datacenter, 'dc1');
});

test('dc2 killed → failed in dc1\'s WAN pool and no path to dc2; force-leave -wan -prune removes it', async () => {
  const [dc1, dc2] = procs;
  dc2.child!.kill('SIGKILL');
  await until('s2.dc2 failed in dc1\'s WAN members', 20_000, async () =>
    (await get<WanMember[]>(dc1, '/v1/agent/members?wan=1'))?.find((m) => m.Name === 's2.dc2')?.Status === 4, POLL);
  // A failed datacenter is still known (Consul lists it until it is reaped) but has no server to forward to.
  assert.deepEqual(await get(dc1, '/v1/catalog/datacenters'), ['dc1', 'dc2']);
  const r = await call(dc1, 'GET', '/v1/kv/federated/key?dc=dc2');
  assert.deepEqual([r.status, r.text], [500, 'No path to datacenter']);
  const fl = await cli(['force-leave', '-wan', '-prune', `-http-addr=${dc1.http}`, 's2.dc2']);
  assert.equal(fl.code, 0, fl.out);
  await until('s2.dc2 pruned from dc1\'s WAN members', 10_000, async () =>
    (await get<WanMember[]>(dc1, '/v1/agent/members?wan=1'))?.map((m) => m.Name).join() === 's1.dc1', POLL);
  assert.deepEqual(await get(dc1, '/v1/catalog/datacenters'), ['dc1']);
});

test('retry_join_wan that never reaches a server gives up after retry_max_wan and stops the agent', async () => {
  const [http, lan, wan, server, closed] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  let log = '';
  const child = spawnProconsul(['agent', '-dev', '-node', 'lonely', '-datacenter', 'dc3', '-bind', '127.0.0.4', '-client', '127.0.0.4',
    '-http-port', String(http), '-dns-port', '-1', '-grpc-port', '-1', '-serf-lan-port', String(lan), '-serf-wan-port', String(wan),
    '-server-port', String(server), '-retry-join-wan', `127.0.0.4:${closed}`, '-retry-max-wan', '1'], (text) => { log += text; });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1, log);
  assert.match(log, /agent: max join \(WAN\) retry exhausted/);
});
