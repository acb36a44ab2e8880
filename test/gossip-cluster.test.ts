// Gossip on real processes: three `proconsul agent -server` processes on one etcd (one shared
// catalog) with an encrypted LAN pool on 127.0.0.1, joined by retry_join and flood-joined into
// their WAN pool. Members converge, the leader reconciles them into the catalog with serfHealth,
// events reach every agent, kill -9 → failed and critical, restart from the peer snapshot alone →
// alive, graceful leave → left and deregistered, wrong key → refused.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { etcdStoreUrl, freePort, startEtcd, type EtcdCluster } from './support/etcd.ts';
import { logTails, until } from './support/wait.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const KEY = Buffer.alloc(32, 7).toString('base64');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-gossip-'));
let etcd: EtcdCluster | undefined;
let store = '';

interface Proc { name: string; http: string; serf: number; cfg: string; child?: ChildProcess; log: string }
const procs: Proc[] = [];

after(async () => {
  for (const p of procs) if (p.child && p.child.exitCode === null) p.child.kill('SIGKILL');
  await etcd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function launch(p: Proc, extra: string[] = []): void {
  p.log = '';
  p.child = spawn(process.execPath, [BIN, 'agent', '-server', '-node', p.name, '-bind', '127.0.0.1', '-client', '127.0.0.1',
    '-store', store, '-data-dir', path.join(dir, p.name), '-config-file', p.cfg, '-log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.child.stdout!.on('data', (c: Buffer) => { p.log += c.toString(); });
  p.child.stderr!.on('data', (c: Buffer) => { p.log += c.toString(); });
}

async function get<T>(p: Proc, urlPath: string): Promise<T | undefined> {
  try {
    const r = await fetch(`${p.http}${urlPath}`, { signal: AbortSignal.timeout(2000) });
    return r.ok ? ((await r.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** A timeout shows the tail of every agent's log. */
const POLL = { context: () => logTails(procs.map((p) => [p.name, p.log]), 3000) };

/** The -retry-join list every server starts with. */
const joins = (): string[] => procs.flatMap((p) => ['-retry-join', `127.0.0.1:${p.serf}`]);

type MemberRow = { Name: string; Status: number };
const statusOf = async (p: Proc, node: string) => (await get<MemberRow[]>(p, '/v1/agent/members'))?.find((m) => m.Name === node)?.Status;
const serfHealth = async (p: Proc, node: string) =>
  (await get<{ CheckID: string; Status: string; Output: string }[]>(p, `/v1/health/node/${node}`))?.find((c) => c.CheckID === 'serfHealth');

before(async () => {
  etcd = await startEtcd(1);
  store = etcdStoreUrl(etcd);
  for (const name of ['g1', 'g2', 'g3']) {
    const [http, serf, wan, server] = [await freePort(), await freePort(), await freePort(), await freePort()];
    procs.push({ name, http: `http://127.0.0.1:${http}`, serf, cfg: path.join(dir, `${name}.json`), log: '' });
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({
      ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: serf, serf_wan: wan, server }, encrypt: KEY, retry_interval: '1s',
      // A leaving server drains RPCs for 1 s instead of 5 s before it deregisters and exits.
      performance: { leave_drain_time: '1s' },
    }));
  }
  for (const p of procs) launch(p, joins());
});

test('three servers join through retry_join; members and the shared catalog show all three alive', async () => {
  for (const p of procs) {
    await until(`${p.name} to see three alive members`, 20_000, async () => {
      const ms = await get<MemberRow[]>(p, '/v1/agent/members');
      return ms?.length === 3 && ms.every((m) => m.Status === 1);
    }, POLL);
  }
  for (const p of procs) {
    const check = await until(`serfHealth of ${p.name}`, 10_000, () => serfHealth(procs[0], p.name), POLL);
    assert.equal(check.Status, 'passing');
    assert.equal(check.Output, 'Agent alive and reachable');
  }
  const out = await cli(['members', `-http-addr=${procs[1].http}`]);
  assert.match(out, /^Node\s+Address\s+Status\s+Type\s+Build\s+Protocol\s+DC\s+Partition\s+Segment\n/);
  for (const p of procs) assert.match(out, new RegExp(`\\n${p.name}\\s+127\\.0\\.0\\.1:${p.serf}\\s+alive\\s+server\\s+\\S+\\s+2\\s+dc1\\s+default\\s+<all>`));
  // Servers of one datacenter flood-join each other's WAN pool (no retry_join_wan needed).
  for (const p of procs) {
    await until(`${p.name} to see the three servers in the WAN pool`, 20_000, async () => {
      const ms = await get<MemberRow[]>(p, '/v1/agent/members?wan=1');
      return ms?.length === 3 && ms.every((m) => m.Status === 1 && m.Name.endsWith('.dc1'));
    }, POLL);
  }
  // The WAN pool is encrypted with the same key and reported first, as Consul does.
  const keys = await cli(['keyring', '-list', `-http-addr=${procs[0].http}`]);
  assert.match(keys, /Gathering installed encryption keys\.\.\.\n\nWAN:\n  \S+ \[3\/3\]\n\ndc1 \(LAN\):\n/);
  assert.ok(keys.includes(`  ${KEY} [3/3]`), keys);
  const ring = (await get<{ WAN: boolean; Keys: Record<string, number>; NumNodes: number }[]>(procs[0], '/v1/operator/keyring'))!;
  assert.deepEqual(ring.map((r) => [r.WAN, r.Keys, r.NumNodes]), [[true, { [KEY]: 3 }, 3], [false, { [KEY]: 3 }, 3]]);
});

test('an event fired on one agent is listed on the others', async () => {
  const r = await fetch(`${procs[1].http}/v1/event/fire/deploy`, { method: 'PUT', body: 'v2' });
  const { ID } = (await r.json()) as { ID: string };
  for (const p of procs) {
    const ev = await until(`event on ${p.name}`, 5000, async () => (await get<{ ID: string; Payload: string; LTime: number }[]>(p, '/v1/event/list?name=deploy'))?.find((e) => e.ID === ID), POLL);
    assert.equal(Buffer.from(ev.Payload, 'base64').toString(), 'v2');
    assert.ok(ev.LTime > 0);
  }
});

test('kill -9 → failed in members and serfHealth critical; restart → alive and passing again', async () => {
  const [a, , c] = procs;
  const t0 = Date.now();
  c.child!.kill('SIGKILL');
  await until('g3 failed in g1 members', 15_000, async () => (await statusOf(a, 'g3')) === 4, POLL);
  const check = await until('g3 serfHealth critical', 15_000, async () => {
    const h = await serfHealth(a, 'g3');
    return h?.Status === 'critical' ? h : undefined;
  }, POLL);
  assert.equal(check.Output, 'Agent not live or unreachable');
  process.stdout.write(`# kill -9 → serfHealth critical after ${Date.now() - t0} ms\n`);
  // Restarted without retry_join: the peer snapshot in its data dir alone brings it back.
  launch(c);
  await until('g3 alive again in g1 members', 20_000, async () => (await statusOf(a, 'g3')) === 1, POLL);
  await until('g3 serfHealth passing', 15_000, async () => (await serfHealth(a, 'g3'))?.Status === 'passing', POLL);
  await until('g3 answering HTTP', 15_000, () => get(c, '/v1/agent/self'), POLL);
  assert.match(c.log, /rejoined previous peers from the snapshot/);
});

test('graceful leave → left in members and the node deregistered', async () => {
  const [a, b, c] = procs;
  const r = await fetch(`${c.http}/v1/agent/leave`, { method: 'PUT' });
  assert.equal(r.status, 200);
  await until('g3 left in g1 members', 15_000, async () => (await statusOf(a, 'g3')) === 3, POLL);
  await until('g3 deregistered', 15_000, async () => (await get<unknown>(b, '/v1/catalog/node/g3')) === null, POLL);
  await until('g3 process exits', 20_000, async () => c.child!.exitCode !== null, POLL);
});

test('a node with the wrong key cannot join, and says so', async () => {
  const [http, serf] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [BIN, 'agent', '-dev', '-node', 'intruder', '-http-port', String(http), '-dns-port', '-1', '-grpc-port', '-1',
    '-serf-lan-port', String(serf), '-serf-wan-port', String(await freePort()), '-encrypt', Buffer.alloc(32, 9).toString('base64'),
    '-retry-join', `127.0.0.1:${procs[0].serf}`, '-retry-max', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => { log += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1, log);
  assert.match(log, /max join \(LAN\) retry exhausted/);
  assert.match(log, /No installed keys could decrypt the message/);
  assert.equal((await get<MemberRow[]>(procs[0], '/v1/agent/members'))?.some((m) => m.Name === 'intruder'), false);
});

async function cli(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  await new Promise((resolve) => child.on('exit', resolve));
  return out;
}
