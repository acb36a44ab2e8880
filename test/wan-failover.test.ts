// A datacenter with two servers behind one WAN pool: dc1 (one server, embedded store) and dc2 (two
// servers on one etcd, LAN-joined). Only one dc2 server is told to join the WAN; the other is
// flood-joined by it. Requests for dc2 keep being answered through dc1 when one dc2 server is
// killed, before the WAN pool has noticed: the forwarder moves on to the other server.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { etcdStoreUrl, freePort, startEtcd, type EtcdCluster } from './support/etcd.ts';
import { logTails, until } from './support/wait.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-wanfail-'));
let etcd: EtcdCluster | undefined;

interface Proc { node: string; dc: string; ip: string; http: string; lan: number; wan: number; child?: ChildProcess; log: string }
const procs: Proc[] = [];

after(async () => {
  for (const p of procs) if (p.child && p.child.exitCode === null) p.child.kill('SIGKILL');
  await etcd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function launch(p: Proc, extra: string[]): void {
  p.child = spawn(process.execPath, [BIN, 'agent', '-server', '-node', p.node, '-datacenter', p.dc, '-bind', p.ip, '-client', p.ip,
    '-data-dir', path.join(dir, p.node), '-config-file', path.join(dir, `${p.node}.json`), '-log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.child.stdout!.on('data', (c: Buffer) => { p.log += c.toString(); });
  p.child.stderr!.on('data', (c: Buffer) => { p.log += c.toString(); });
}

/** Polls while servers start: a refused connection is "not yet"; a timeout shows the tail of every server's log. */
const POLL = { retryErrors: true, context: () => logTails(procs.map((p) => [p.node, p.log]), 3000) };

const wanMembers = async (p: Proc) =>
  (await (await fetch(`${p.http}/v1/agent/members?wan=1`, { signal: AbortSignal.timeout(2000) })).json()) as { Name: string; Status: number }[];

before(async () => {
  etcd = await startEtcd(1);
  const store = etcdStoreUrl(etcd);
  for (const [node, dc, ip] of [['s1', 'dc1', '127.0.0.2'], ['s2a', 'dc2', '127.0.0.3'], ['s2b', 'dc2', '127.0.0.4']]) {
    const [http, lan, wan, server] = [await freePort(), await freePort(), await freePort(), await freePort()];
    procs.push({ node, dc, ip, http: `http://${ip}:${http}`, lan, wan, log: '' });
    fs.writeFileSync(path.join(dir, `${node}.json`), JSON.stringify({
      ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: lan, serf_wan: wan, server }, retry_interval: '1s', retry_interval_wan: '1s',
    }));
  }
  const [s1, s2a, s2b] = procs;
  launch(s1, ['-bootstrap']);
  launch(s2a, ['-store', store, '-retry-join', `${s2b.ip}:${s2b.lan}`, '-retry-join-wan', `${s1.ip}:${s1.wan}`]);
  launch(s2b, ['-store', store, '-retry-join', `${s2a.ip}:${s2a.lan}`]);
});

test('the second dc2 server is flood-joined into the WAN pool by the first', async () => {
  const [s1, , s2b] = procs;
  for (const p of [s1, s2b]) {
    await until(`${p.node} to see three alive WAN members`, 30_000, async () => {
      const ms = await wanMembers(p);
      return ms.length === 3 && ms.every((m) => m.Status === 1);
    }, POLL);
  }
  assert.deepEqual((await wanMembers(s1)).map((m) => m.Name).sort(), ['s1.dc1', 's2a.dc2', 's2b.dc2']);
  assert.match(procs[1].log, /Successfully performed flood-join for server/);
});

test('requests for dc2 fail over to the surviving server right after the other is killed', async () => {
  const [s1, s2a] = procs;
  let last = '';
  const put = await until('a KV write into dc2 through dc1', 15_000, async () => {
    const r = await fetch(`${s1.http}/v1/kv/fo/key?dc=dc2`, { method: 'PUT', body: 'v1', signal: AbortSignal.timeout(5000) });
    last = `${r.status} ${await r.text()}`;
    return r.status === 200 ? last : undefined;
  }, POLL).catch((err: Error) => { throw new Error(`last answer: ${last}\n${err.message}`); });
  assert.equal(put, '200 true');
  s2a.child!.kill('SIGKILL');
  await new Promise((r) => s2a.child!.once('exit', r));
  // Default WAN probing (5 s) has not noticed yet: s2a is still listed alive and gets picked about
  // half the time, each such pick refused and retried on s2b.
  const answers: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${s1.http}/v1/kv/fo/key?dc=dc2&raw`, { signal: AbortSignal.timeout(5000) });
    answers.push(`${r.status} ${await r.text()}`);
  }
  assert.deepEqual(new Set(answers), new Set(['200 v1']));
  assert.match(s1.log, /RPC failed to server, trying the next one/);
});
