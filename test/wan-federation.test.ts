// Two datacenters on real processes: one `proconsul agent -server` per datacenter (embedded
// store each) on 127.0.0.2 (dc1) and 127.0.0.3 (dc2), dc2 joined to dc1 over the WAN pool with
// -retry-join-wan. Both see the WAN members and both datacenters (nearest first), requests with
// ?dc=dc2 sent to dc1 are answered by dc2 (KV writes land there, its catalog is readable), an
// unknown datacenter is Consul's 500, and dc1's DNS answers web.service.dc2.consul from dc2, as
// does a dc1 client agent under its own domain and TTLs.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from './support/etcd.ts';
import { digAt } from './support/dns.ts';
import { logTails, until } from './support/wait.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-wan-'));

interface Proc { node: string; dc: string; ip: string; http: string; dns: number; wan: number; lan?: number; child?: ChildProcess; log: string }
const procs: Proc[] = [];

after(() => {
  for (const p of procs) if (p.child && p.child.exitCode === null) p.child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function launch(p: Proc, extra: string[] = []): void {
  const cfg = path.join(dir, `${p.node}.json`);
  p.child = spawn(process.execPath, [BIN, 'agent', '-server', '-bootstrap', '-node', p.node, '-datacenter', p.dc, '-bind', p.ip, '-client', p.ip,
    '-data-dir', path.join(dir, p.node), '-config-file', cfg, '-log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.child.stdout!.on('data', (c: Buffer) => { p.log += c.toString(); });
  p.child.stderr!.on('data', (c: Buffer) => { p.log += c.toString(); });
}

async function call(p: Proc, method: string, urlPath: string, body?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(`${p.http}${urlPath}`, { method, body, signal: AbortSignal.timeout(5000) });
  return { status: r.status, text: await r.text(), headers: r.headers };
}

async function get<T>(p: Proc, urlPath: string): Promise<T | undefined> {
  try {
    const r = await call(p, 'GET', urlPath);
    return r.status === 200 ? (JSON.parse(r.text) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** A timeout shows the tail of every server's log. */
const POLL = { context: () => logTails(procs.map((p) => [p.node, p.log]), 3000) };

async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out };
}

type WanMember = { Name: string; Addr: string; Port: number; Status: number; Tags: Record<string, string> };

before(async () => {
  for (const [node, dc, ip] of [['s1', 'dc1', '127.0.0.2'], ['s2', 'dc2', '127.0.0.3']]) {
    const [http, dns, lan, wan, server] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    procs.push({ node, dc, ip, http: `http://${ip}:${http}`, dns, wan, lan, log: '' });
    fs.writeFileSync(path.join(dir, `${node}.json`), JSON.stringify({
      ports: { http, dns, grpc: -1, grpc_tls: -1, serf_lan: lan, serf_wan: wan, server },
      // Fast WAN probes so that the coordinates of the other datacenter arrive within the test.
      gossip_wan: { probe_interval: '200ms', probe_timeout: '100ms' },
    }));
  }
  const [dc1, dc2] = procs;
  launch(dc1);
  launch(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
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
  const [http, dns, lan] = [await freePort(), await freePort(), await freePort()];
  const client: Proc = { node: 'c1', dc: 'dc1', ip: '127.0.0.5', http: `http://127.0.0.5:${http}`, dns, wan: 0, log: '' };
  procs.push(client);
  fs.writeFileSync(path.join(dir, 'c1.json'), JSON.stringify({
    ports: { http, dns, grpc: -1, grpc_tls: -1, serf_lan: lan, serf_wan: -1, server: await freePort() },
    domain: 'pc', dns_config: { service_ttl: { '*': '9s' } },
  }));
  client.child = spawn(process.execPath, [BIN, 'agent', '-node', 'c1', '-datacenter', 'dc1', '-bind', client.ip, '-client', client.ip,
    '-data-dir', path.join(dir, 'c1'), '-config-file', path.join(dir, 'c1.json'), '-retry-join', `${dc1.ip}:${dc1.lan}`, '-retry-interval', '1s'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  client.child.stdout!.on('data', (c: Buffer) => { client.log += c.toString(); });
  client.child.stderr!.on('data', (c: Buffer) => { client.log += c.toString(); });
  const viaClient = await until('web.service.dc2.pc through the client', 20_000, async () => {
    const r = await digAt(client.ip, dns, 'web.service.dc2.pc').catch(() => undefined);
    return r?.answer.length ? r : undefined;
  }, POLL);
  assert.deepEqual(viaClient.answer.map((a) => [a[0], a[1], a[4]]), [['web.service.dc2.pc.', '9', '10.20.0.7']]);
  const srv = await digAt(client.ip, dns, 'web.service.dc2.pc', 'SRV');
  assert.deepEqual(srv.answer.map((a) => a.slice(4).join(' ')), ['1 1 8080 0a140007.addr.dc2.pc.']);
  assert.equal((await digAt(client.ip, dns, 'web.service.dc2.consul')).status, 'REFUSED', 'consul is not the client domain');
  client.child.kill('SIGKILL');
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
  const child = spawn(process.execPath, [BIN, 'agent', '-dev', '-node', 'lonely', '-datacenter', 'dc3', '-bind', '127.0.0.4', '-client', '127.0.0.4',
    '-http-port', String(http), '-dns-port', '-1', '-grpc-port', '-1', '-serf-lan-port', String(lan), '-serf-wan-port', String(wan),
    '-server-port', String(server), '-retry-join-wan', `127.0.0.4:${closed}`, '-retry-max-wan', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => { log += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1, log);
  assert.match(log, /agent: max join \(WAN\) retry exhausted/);
});
