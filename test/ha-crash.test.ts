// Leader crash on real processes: three `proconsul agent -server -store etcd://…` processes on
// a 3-member etcd cluster; SIGKILL of the leader (no resignation: the others find its server
// port, where they held its liveness greeting open, refusing and revoke its lease) → the others elect a new leader and writes succeed; the
// time is printed for the record. SIGSTOP of the leader (alive, connections open): nobody
// revokes its lease, the lease expires, another leads, and after SIGCONT the old one follows.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { etcdStoreUrl, freePort, startEtcd, type EtcdCluster } from './support/etcd.ts';
import { until } from './support/wait.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
let etcd: EtcdCluster | undefined;
const procs: { child: ChildProcess; http: string; server: string; log: string[] }[] = [];

after(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await etcd?.stop();
});

async function startServer(node: string, store: string, dir: string): Promise<void> {
  const [http, server] = [await freePort(), await freePort()];
  const cfg = path.join(dir, `${node}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server } }));
  const child = spawn(process.execPath, [BIN, 'agent', '-server', '-node', node, '-bind', '127.0.0.1', '-client', '127.0.0.1', '-store', store, '-data-dir', path.join(dir, node), '-config-file', cfg, '-log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const log: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => log.push(d));
  procs.push({ child, http: `http://127.0.0.1:${http}`, server: `127.0.0.1:${server}`, log });
}

async function leaderOf(base: string): Promise<string> {
  try {
    return (await (await fetch(`${base}/v1/status/leader`, { signal: AbortSignal.timeout(1000) })).json()) as string;
  } catch {
    return '';
  }
}

test('kill -9 of the leader process: a new leader within the lease TTL and writes succeed', async () => {
  etcd = await startEtcd(3);
  const store = etcdStoreUrl(etcd);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ha-'));
  for (const n of ['p1', 'p2', 'p3']) await startServer(n, store, dir);
  const leaderAddr = await until('one agreed leader', 20_000, async () => {
    const seen = await Promise.all(procs.map((p) => leaderOf(p.http)));
    return seen[0] && seen.every((s) => s === seen[0]) ? seen[0] : undefined;
  }, { every: 25 });
  const leader = procs.find((p) => p.server === leaderAddr)!;
  const rest = procs.filter((p) => p !== leader);
  // The liveness greeting the followers hold open is served on the server port (no other port).
  const greeting = await fetch(`http://${leader.server}/v1/internal/rpc/liveness`);
  const reader = greeting.body!.getReader();
  const first = Buffer.from((await reader.read()).value!).toString();
  await reader.cancel();
  assert.match(first, /^proconsul-leader \{"Node":"p\d","Lease":\d+\}\n$/);
  const t0 = Date.now();
  leader.child.kill('SIGKILL');
  const next = await until('a new leader', 15_000, async () => {
    const seen = await Promise.all(rest.map((p) => leaderOf(p.http)));
    return seen[0] && seen[0] !== leaderAddr && seen.every((s) => s === seen[0]) ? seen[0] : undefined;
  }, { every: 25 });
  const electedMs = Date.now() - t0;
  assert.ok(rest.some((p) => p.server === next));
  const put = await fetch(`${rest[0].http}/v1/kv/after-crash`, { method: 'PUT', body: 'ok' });
  assert.equal(await put.text(), 'true');
  const writeMs = Date.now() - t0;
  process.stdout.write(`# leader SIGKILL → new leader after ${electedMs} ms, first write acknowledged at ${writeMs} ms\n`);
  assert.ok(electedMs < 6000, `new leader took ${electedMs} ms`);
  // The dead leader's record leaves each server's view when that server sees its lease revoked,
  // which can come a moment after another server acknowledged the first write.
  const servers = await until('the dead leader out of the raft configuration', 10_000, async () => {
    const cfg = (await (await fetch(`${rest[1].http}/v1/operator/raft/configuration`)).json()) as { Servers: unknown[] };
    return cfg.Servers.length === 2 ? cfg.Servers.length : undefined;
  }, { every: 25 });
  assert.equal(servers, 2);
  assert.ok(rest.some((p) => p.log.join('').includes('leader process is gone')), 'a follower revoked the dead leader\'s lease');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('SIGSTOP of the leader (alive, connections open): no early revocation; another leads after its lease expires; after SIGCONT it follows', async () => {
  const store = `etcd://${etcd!.endpoints.map((u) => new URL(u).host).join(',')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ha-stop-'));
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  procs.length = 0;
  for (const n of ['q1', 'q2', 'q3']) await startServer(n, store, dir);
  const agreed = (set: typeof procs, not: string) => until('an agreed leader', 20_000, async () => {
    const seen = await Promise.all(set.map((p) => leaderOf(p.http)));
    // The first test's killed leader may still hold the key until its lease expires: wait for one of ours.
    return procs.some((p) => p.server === seen[0]) && seen[0] !== not && seen.every((s) => s === seen[0]) ? seen[0] : undefined;
  }, { every: 25 });
  const leaderAddr = await agreed(procs, '');
  const leader = procs.find((p) => p.server === leaderAddr)!;
  const rest = procs.filter((p) => p !== leader);
  leader.child.kill('SIGSTOP');
  try {
    const next = await agreed(rest, leaderAddr);
    assert.ok(rest.some((p) => p.server === next));
    for (const p of rest) assert.doesNotMatch(p.log.join(''), /leader process is gone/, 'a live (stopped) leader\'s lease was revoked');
  } finally {
    leader.child.kill('SIGCONT');
  }
  const after = await agreed(procs, leaderAddr);
  assert.notEqual(after, leaderAddr);
  const put = await fetch(`${leader.http}/v1/kv/after-stop`, { method: 'PUT', body: 'ok' });
  assert.equal(await put.text(), 'true');
  fs.rmSync(dir, { recursive: true, force: true });
});
