// Client agents on real processes: three managed servers (bootstrap_expect 3) on 127.0.0.1-3 and
// two clients on 127.0.0.4-5, one port layout on every address, joined by retry_join. Clients
// answer agent routes themselves and forward the rest to a server: members, services registered
// on a client in the servers' catalog and in DNS on the other client, KV and sessions across
// clients, blocking queries, a killed client failed everywhere within 10 s with Consul's default
// gossip timings and coming back with its services, and failover when the server a client talks
// to is killed.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { etcdBinary, freePort } from './support/etcd.ts';
import { logTails, until } from './support/wait.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const dir = fs.mkdtempSync(path.join(base, 'proconsul-clients-'));
const run = promisify(execFile);

interface Agent { name: string; ip: string; server: boolean; child?: ChildProcess; log: string; dead?: boolean }
const agents: Agent[] = [
  { name: 's1', ip: '127.0.0.1', server: true, log: '' }, { name: 's2', ip: '127.0.0.2', server: true, log: '' },
  { name: 's3', ip: '127.0.0.3', server: true, log: '' }, { name: 'c1', ip: '127.0.0.4', server: false, log: '' },
  { name: 'c2', ip: '127.0.0.5', server: false, log: '' },
];
const [s1, , , c1, c2] = agents;
const servers = agents.filter((a) => a.server);
const ports = { http: 0, dns: 0, serf: 0, wan: 0, server: 0, etcdClient: 0, etcdPeer: 0 };
const http = (a: Agent) => `http://${a.ip}:${ports.http}`;

function etcdPid(a: Agent): number {
  try {
    return Number(fs.readFileSync(path.join(dir, a.name, 'etcd', 'etcd.pid'), 'utf8'));
  } catch {
    return 0;
  }
}

function killHard(a: Agent): void {
  a.dead = true;
  if (a.child && a.child.exitCode === null) a.child.kill('SIGKILL');
  const pid = a.server ? etcdPid(a) : 0;
  if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

after(async () => {
  for (const a of agents) killHard(a);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The same command line for a first start and a restart. */
function launch(a: Agent): void {
  a.log = '';
  a.dead = false;
  const joins = servers.flatMap((s) => ['-retry-join', `${s.ip}:${ports.serf}`]);
  const role = a.server ? ['-server', '-bootstrap-expect', '3'] : [];
  a.child = spawn(process.execPath, [BIN, 'agent', ...role, '-node', a.name, '-bind', a.ip, '-client', a.ip,
    '-data-dir', path.join(dir, a.name), '-config-file', path.join(dir, 'agent.json'), '-log-level', 'info', ...joins], { stdio: ['ignore', 'pipe', 'pipe'] });
  a.child.stdout!.on('data', (c: Buffer) => { a.log = (a.log + c.toString()).slice(-20_000); });
  a.child.stderr!.on('data', (c: Buffer) => { a.log = (a.log + c.toString()).slice(-20_000); });
}

async function req(a: Agent, urlPath: string, init: RequestInit = {}): Promise<Response | undefined> {
  try {
    return await fetch(`${http(a)}${urlPath}`, { signal: AbortSignal.timeout(5000), ...init });
  } catch {
    return undefined;
  }
}

async function get<T>(a: Agent, urlPath: string): Promise<T | undefined> {
  const r = await req(a, urlPath);
  return r?.ok ? ((await r.json()) as T) : undefined;
}

/** A timeout shows the tail of every agent's log. */
const POLL = { context: () => logTails(agents.map((a) => [a.name, a.log]), 2500) };

type MemberRow = { Name: string; Status: number; Tags: Record<string, string> };
const statusOf = async (a: Agent, node: string) => (await get<MemberRow[]>(a, '/v1/agent/members'))?.find((m) => m.Name === node)?.Status;
const serfHealth = async (a: Agent, node: string) =>
  (await get<{ CheckID: string; Status: string }[]>(a, `/v1/health/node/${node}`))?.find((c) => c.CheckID === 'serfHealth')?.Status;

/** The server RPC addresses a client holds TCP connections to (its keep-alive pool), from /proc/net/tcp. */
function rpcPeers(client: Agent): string[] {
  const hex = (ip: string) => ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).reverse().join('').toUpperCase();
  const port = ports.server.toString(16).toUpperCase().padStart(4, '0');
  const rows = fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  // Column 1 is local ip:port, 2 remote ip:port, 3 the state (01 = established).
  return servers.filter((s) => rows.some((r) => r[3] === '01' && r[1]?.startsWith(`${hex(client.ip)}:`) && r[2] === `${hex(s.ip)}:${port}`)).map((s) => s.name);
}

async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, ...args]);
  return stdout;
}

before(async () => {
  etcdBinary();
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  fs.writeFileSync(path.join(dir, 'agent.json'), JSON.stringify({
    ports: { http: ports.http, dns: ports.dns, grpc: -1, grpc_tls: -1, serf_lan: ports.serf, serf_wan: ports.wan, server: ports.server },
    managed_etcd: { client_port: ports.etcdClient, peer_port: ports.etcdPeer }, retry_interval: '1s',
    // No gossip_lan settings: Consul's LAN defaults (1 s probes, 500 ms probe timeout,
    // suspicion_mult 4), as the acceptance asks for the client kill below.
  }));
  for (const a of agents) launch(a);
  await until('one leader agreed by the three servers', 45_000, async () => {
    const seen = await Promise.all(servers.map((s) => get<string>(s, '/v1/status/leader')));
    return seen[0] && seen.every((x) => x === seen[0]) ? seen[0] : undefined;
  }, POLL);
});

test('five agents alive in members on every agent; the CLI lists servers and clients', async () => {
  for (const a of agents) {
    await until(`${a.name} to see five alive members`, 20_000, async () => {
      const ms = await get<MemberRow[]>(a, '/v1/agent/members');
      return ms?.length === 5 && ms.every((m) => m.Status === 1);
    }, POLL);
  }
  const out = await cli(['members', `-http-addr=${http(c1)}`]);
  for (const a of agents) {
    const type = a.server ? 'server' : 'client';
    assert.match(out, new RegExp(`\\n${a.name}\\s+${a.ip.replaceAll('.', '\\.')}:${ports.serf}\\s+alive\\s+${type}\\s`), out);
  }
  // The client's server list comes from the serf tags: each server advertises its RPC port.
  const tags = (await get<MemberRow[]>(c1, '/v1/agent/members'))!.filter((m) => m.Tags.role === 'consul').map((m) => m.Tags.port);
  assert.deepEqual(tags, [String(ports.server), String(ports.server), String(ports.server)]);
  const self = (await get<{ Config: { Server: boolean }; Stats: Record<string, Record<string, string>> }>(c1, '/v1/agent/self'))!;
  assert.equal(self.Config.Server, false);
  assert.deepEqual(self.Stats.consul, { acl: 'disabled', known_servers: '3', server: 'false' });
});

test('services registered on clients reach the catalog on every server and DNS on the other client', async () => {
  for (const [a, svc] of [[c1, 'web'], [c2, 'api']] as const) {
    const r = await req(a, '/v1/agent/service/register', { method: 'PUT', body: JSON.stringify({ Name: svc, Port: 8080, Tags: ['v1'] }) });
    assert.equal(r?.status, 200);
  }
  assert.deepEqual(Object.keys((await get<Record<string, unknown>>(c1, '/v1/agent/services'))!), ['web']);
  for (const s of servers) {
    const rows = await until(`web in ${s.name}'s catalog`, 10_000, async () => {
      const r = await get<{ Node: string; Address: string; ServicePort: number }[]>(s, '/v1/catalog/service/web');
      return r?.length ? r : undefined;
    }, POLL);
    assert.deepEqual(rows.map((x) => [x.Node, x.Address, x.ServicePort]), [['c1', '127.0.0.4', 8080]]);
  }
  const healthy = await until('web passing on a server', 10_000, async () => {
    const r = await get<{ Checks: { CheckID: string; Status: string }[] }[]>(s1, '/v1/health/service/web?passing');
    return r?.length ? r : undefined;
  }, POLL);
  assert.ok(healthy[0].Checks.some((c) => c.CheckID === 'serfHealth' && c.Status === 'passing'));
  // Anti-entropy and the leader's reconcile write the same node.
  const node = (await get<{ Node: { ID: string; Address: string; TaggedAddresses: Record<string, string>; Meta: Record<string, string> } }>(s1, '/v1/catalog/node/c1'))!.Node;
  const self = (await get<{ Config: { NodeID: string } }>(c1, '/v1/agent/self'))!;
  assert.equal(node.ID, self.Config.NodeID);
  assert.equal(node.Address, '127.0.0.4');
  assert.equal(node.TaggedAddresses.lan, '127.0.0.4');
  assert.ok(node.Meta?.['consul-version'], JSON.stringify(node));
  // An alias check on c2 mirrors c1's node health, read through a server with a blocking query.
  const alias = await req(c2, '/v1/agent/check/register', { method: 'PUT', body: JSON.stringify({ Name: 'c1-alive', AliasNode: 'c1' }) });
  assert.equal(alias?.status, 200);
  await until('the alias of node c1 passing on c2', 10_000, async () => {
    const checks = await get<Record<string, { Status: string }>>(c2, '/v1/agent/checks');
    return checks?.['c1-alive']?.Status === 'passing';
  }, POLL);
  const { stdout } = await run('dig', [`@${c2.ip}`, '-p', String(ports.dns), '+tries=1', '+time=3', '+short', 'web.service.consul']);
  assert.equal(stdout.trim(), '127.0.0.4');
  const srv = await run('dig', [`@${c2.ip}`, '-p', String(ports.dns), '+tries=1', '+time=3', '+short', 'api.service.consul', 'SRV']);
  assert.match(srv.stdout, /^1 1 8080 c2\.node\.dc1\.consul\.$/m);
});

test('KV, sessions and blocking queries through the clients', async () => {
  const put = await req(c1, '/v1/kv/app/config', { method: 'PUT', body: 'v1' });
  assert.equal(await put!.text(), 'true');
  // Each client may talk to a different server, whose replica follows the store asynchronously.
  const first = await req(c2, '/v1/kv/app/config?consistent');
  assert.equal(first!.status, 200);
  const index = first!.headers.get('X-Consul-Index')!;
  assert.ok(Number(index) > 0);
  assert.equal(first!.headers.get('X-Consul-KnownLeader'), 'true');
  assert.equal(await (await req(c2, '/v1/kv/app/config?raw&consistent'))!.text(), 'v1');
  // A blocking query on c2 returns when c1 writes.
  const blocked = fetch(`${http(c2)}/v1/kv/app/config?index=${index}&wait=20s`);
  await new Promise((r) => setTimeout(r, 300));
  await req(c1, '/v1/kv/app/config', { method: 'PUT', body: 'v2' });
  const woke = await blocked;
  assert.ok(Number(woke.headers.get('X-Consul-Index')) > Number(index));
  assert.equal(Buffer.from(((await woke.json()) as { Value: string }[])[0].Value, 'base64').toString(), 'v2');
  // A session created on a client belongs to the client's node; a lock taken through c1 shows on c2.
  const { ID } = (await (await req(c1, '/v1/session/create', { method: 'PUT', body: '{"Name":"lock"}' }))!.json()) as { ID: string };
  const info = (await get<{ Node: string }[]>(c2, `/v1/session/info/${ID}?consistent`))!;
  assert.equal(info[0].Node, 'c1');
  const acquired = await req(c1, `/v1/kv/app/leader?acquire=${ID}`, { method: 'PUT', body: 'c1' });
  assert.equal(await acquired!.text(), 'true');
  const held = (await get<{ Session: string }[]>(c2, '/v1/kv/app/leader?consistent'))!;
  assert.equal(held[0].Session, ID);
});

test('kill -9 of a client: failed everywhere and serfHealth critical; restart brings it back with its services', async () => {
  // All five alive, Consul's default gossip timings: the acceptance, within 10 s.
  const t0 = Date.now();
  killHard(c2);
  const watchers = agents.filter((a) => !a.dead);
  for (const a of watchers) await until(`c2 failed in ${a.name}'s members`, 10_000 - (Date.now() - t0), async () => (await statusOf(a, 'c2')) === 4, POLL);
  const live = servers.find((s) => !s.dead)!;
  await until('c2 serfHealth critical', 10_000 - (Date.now() - t0), async () => (await serfHealth(live, 'c2')) === 'critical', POLL);
  process.stdout.write(`# client kill -9 → failed everywhere and serfHealth critical after ${Date.now() - t0} ms\n`);
  launch(c2);
  for (const a of watchers) await until(`c2 alive again in ${a.name}'s members`, 20_000, async () => (await statusOf(a, 'c2')) === 1, POLL);
  await until('c2 serfHealth passing', 15_000, async () => (await serfHealth(live, 'c2')) === 'passing', POLL);
  const api = await until('api back in the catalog', 15_000, async () => {
    const r = await get<{ Node: { Node: string } }[]>(live, '/v1/health/service/api?passing');
    return r?.length ? r : undefined;
  }, POLL);
  assert.equal(api[0].Node.Node, 'c2');
  assert.deepEqual(Object.keys((await until('c2 answering', 10_000, () => get<Record<string, unknown>>(c2, '/v1/agent/services'), POLL))), ['api']);
});

test('kill -9 of the server a client talks to: the client fails over and keeps working', async () => {
  const talking = await until('c1 to hold an RPC connection', 5000, async () => {
    await req(c1, '/v1/kv/app/config');
    const p = rpcPeers(c1);
    return p.length ? p : undefined;
  }, POLL);
  const victim = agents.find((a) => a.name === talking[0])!;
  const t0 = Date.now();
  killHard(victim);
  // Reads fail over at once: the dead server refuses connections.
  const read = await req(c1, '/v1/kv/app/config?raw&stale');
  const text = await read?.text();
  assert.equal(read?.status, 200, text);
  assert.equal(text, 'v2');
  const write = await until('a write through c1 after the kill', 30_000, async () => {
    const r = await req(c1, '/v1/kv/app/after', { method: 'PUT', body: 'ok' });
    return r?.status === 200 ? r : undefined;
  }, POLL);
  assert.equal(await write.text(), 'true');
  process.stdout.write(`# killed ${victim.name}: first write through c1 accepted after ${Date.now() - t0} ms\n`);
  // Anti-entropy goes to another server too.
  const r = await req(c1, '/v1/agent/service/register', { method: 'PUT', body: JSON.stringify({ Name: 'late', Port: 9090 }) });
  assert.equal(r?.status, 200);
  const live = servers.find((s) => !s.dead)!;
  await until('late in the catalog after the kill', 15_000, async () => (await get<unknown[]>(live, '/v1/catalog/service/late'))?.length === 1, POLL);
  assert.equal(await (await req(c2, '/v1/kv/app/after?raw&consistent'))!.text(), 'ok');
  assert.equal(rpcPeers(c1).includes(victim.name), false);
});
