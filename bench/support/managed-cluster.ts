// A 3-server managed datacenter for bench/failover.ts: three identical `proconsul agent -server
// -bootstrap-expect 3 -retry-join …` processes, each supervising its own etcd member under its
// data dir (as in test/ha-managed.test.ts). A "machine" is one agent plus its etcd member, so a
// machine loss is SIGKILL of both (or SIGSTOP: a machine that vanishes without closing its
// connections); the etcd leader can be moved onto a chosen machine first.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/etcd.ts';
import { agreedLeader, kill, type ServerAgent } from './ha-cluster.ts';
import { monoMs, sleep } from './proc.ts';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'proconsul.js');
const LOG = process.env.PROCONSUL_BENCH_LOG;

/** One managed server: the agent and where its etcd member answers. */
export interface ManagedServer extends ServerAgent {
  /** `http://127.0.0.1:PORT` of its etcd member. */
  etcdClient: string;
  dataDir: string;
}

/** Three managed servers. */
export interface ManagedCluster {
  servers: ManagedServer[];
  /** SIGKILLs every agent and etcd member and removes the data dirs. */
  stop(): Promise<void>;
}

export function etcdPid(s: ManagedServer): number {
  try {
    return Number(fs.readFileSync(path.join(s.dataDir, 'etcd', 'etcd.pid'), 'utf8'));
  } catch {
    return 0;
  }
}

/** SIGKILLs the agent and its etcd member at once; resolves when both are gone. */
export async function killMachine(s: ManagedServer): Promise<void> {
  const pid = etcdPid(s);
  const agent = kill(s.child);
  if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  await agent;
  while (pid) {
    try { process.kill(pid, 0); } catch { break; }
    await sleep(5);
  }
}

/**
 * SIGSTOPs the agent and its etcd member at once: a machine that stops answering without closing
 * its connections (no RST, as on power loss or a partition), so only the lease TTL can tell.
 * stop() SIGKILLs stopped processes as any other.
 */
export function freezeMachine(s: ManagedServer): void {
  const pid = etcdPid(s);
  s.child.kill('SIGSTOP');
  if (pid) try { process.kill(pid, 'SIGSTOP'); } catch { /* gone */ }
}

/** `{member, leader}` ids as the member at `url` reports them, or null when it does not answer. */
async function status(url: string): Promise<{ member: string; leader: string } | null> {
  try {
    const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(500) });
    const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
    return body.header?.member_id && body.leader ? { member: body.header.member_id, leader: body.leader } : null;
  } catch {
    return null;
  }
}

/** Index in `servers` of the one whose etcd member leads, or -1. */
export async function etcdLeaderIndex(servers: ManagedServer[]): Promise<number> {
  const all = await Promise.all(servers.map((s) => status(s.etcdClient)));
  return all.findIndex((x) => x !== null && x.member === x.leader);
}

/** Moves etcd leadership onto `to`'s member (etcd's MoveLeader) and waits until it holds it. */
export async function moveEtcdLeader(servers: ManagedServer[], to: ManagedServer): Promise<void> {
  const target = (await status(to.etcdClient))?.member;
  const deadline = monoMs() + 15_000;
  while (monoMs() < deadline) {
    const i = await etcdLeaderIndex(servers);
    if (i >= 0 && servers[i] === to) return;
    if (i >= 0 && target) {
      await fetch(`${servers[i].etcdClient}/v3/maintenance/transfer-leadership`, { method: 'POST', body: JSON.stringify({ targetID: target }) }).catch(() => undefined);
    }
    await sleep(50);
  }
  throw new Error(`could not move the etcd leader to ${to.node}`);
}

/** Starts three managed servers joining each other and resolves once they agree on a leader. */
export async function startManagedCluster(): Promise<ManagedCluster> {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, 'proconsul-failover-managed-'));
  const prepared = [];
  for (const node of ['s1', 's2', 's3']) {
    const [http, server, serf, serfWan, client, peer] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const cfg = path.join(dir, `${node}.json`);
    fs.writeFileSync(cfg, JSON.stringify({
      ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: serf, serf_wan: serfWan, server },
      managed_etcd: { client_port: client, peer_port: peer },
    }));
    prepared.push({ node, cfg, http, server, serf, client, dataDir: path.join(dir, node) });
  }
  const join = prepared.flatMap((p) => ['-retry-join', `127.0.0.1:${p.server}`, '-retry-join', `127.0.0.1:${p.serf}`]);
  const servers: ManagedServer[] = prepared.map((p) => ({
    node: p.node, http: `http://127.0.0.1:${p.http}`, server: `127.0.0.1:${p.server}`, etcdClient: `http://127.0.0.1:${p.client}`, dataDir: p.dataDir,
    child: spawn(process.execPath, [BIN, 'agent', '-server', '-bootstrap-expect', '3', '-node', p.node, '-bind', '127.0.0.1', '-client', '127.0.0.1',
      '-data-dir', p.dataDir, '-config-file', p.cfg, '-log-level', LOG ?? 'error', ...join], { stdio: ['ignore', LOG ? 'inherit' : 'ignore', 'inherit'] }),
  }));
  const stop = async () => {
    await Promise.all(servers.map(killMachine));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await agreedLeader(servers, '', 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { servers, stop };
}
