// Starts real etcd 3.4 members (Debian's `etcd-server`) for tests: one member or a 3-member
// cluster on 127.0.0.1 with free ports, data dirs on tmpfs, auto-compaction on and an
// explicit quota. Fails loudly, never skips, when the binary is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

/** The etcd binary, or a thrown error explaining how to install it. */
export function etcdBinary(): string {
  const found = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0 || !/etcd Version: 3\.4\./.test(found.stdout)) {
    throw new Error('etcd 3.4 not found on PATH: install it with `apt-get install -y etcd-server etcd-client` (.ci/run does)');
  }
  return 'etcd';
}

/** Free ports (below the ephemeral range): see ports.ts. */
export { freePort };

/** One etcd member process. */
export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess | null;
}

/** A running etcd cluster and controls for fault tests. */
export interface EtcdCluster {
  members: EtcdMember[];
  /** Client URLs of every member, e.g. for EtcdStore's `endpoints`. */
  endpoints: string[];
  /** SIGKILLs a member. */
  kill(index: number): Promise<void>;
  /** Restarts a killed member with its data dir; resolves once it is healthy. */
  restart(index: number): Promise<void>;
  /** Index of the member that is currently the Raft leader. */
  leaderIndex(): Promise<number>;
  /** Kills every member and removes the data dirs. */
  stop(): Promise<void>;
}

/** The agent's `-store` value for the cluster: `etcd://host:port,host:port`. */
export function etcdStoreUrl(etcd: EtcdCluster): string {
  return `etcd://${etcd.endpoints.map((u) => new URL(u).host).join(',')}`;
}

/** Options for starting etcd. */
export interface EtcdOptions {
  /** Revisions kept by auto-compaction (mode `revision`); default 10,000. */
  compactionRetention?: number;
  /** Backend quota in bytes; default 256 MiB. */
  quotaBytes?: number;
  /** Directory for the members' data dirs; default /dev/shm (tmpfs) when present. Benchmarks pass a disk path. */
  dataRoot?: string;
  /** Raft timings; default 50 ms heartbeat and 500 ms election timeout (fast failover tests; etcd's own defaults are 100/1000). */
  heartbeatMs?: number;
  electionTimeoutMs?: number;
}

function args(m: EtcdMember, cluster: string, state: 'new' | 'existing', token: string, opts: EtcdOptions): string[] {
  return [
    '--name', m.name, '--data-dir', m.dataDir,
    '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
    '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
    '--initial-cluster', cluster, '--initial-cluster-state', state, '--initial-cluster-token', token,
    '--auto-compaction-mode', 'revision', '--auto-compaction-retention', String(opts.compactionRetention ?? 10_000),
    '--quota-backend-bytes', String(opts.quotaBytes ?? 256 * 1024 * 1024),
    // Snapshot restores are one transaction: allow many ops and large requests.
    '--max-txn-ops', '100000', '--max-request-bytes', String(32 * 1024 * 1024),
    '--heartbeat-interval', String(opts.heartbeatMs ?? 50), '--election-timeout', String(opts.electionTimeoutMs ?? 500),
    '--logger', 'zap', '--log-level', 'error',
  ];
}

async function healthy(m: EtcdMember, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (m.process && m.process.exitCode !== null) throw new Error(`etcd ${m.name} exited with ${m.process.exitCode}`);
    try {
      const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`etcd ${m.name} not healthy after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function launch(bin: string, m: EtcdMember, a: string[]): void {
  const child = spawn(bin, a, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => { tail = (tail + d.toString()).slice(-4000); });
  child.once('exit', (code, signal) => {
    if (code && !signal) process.stderr.write(`etcd ${m.name} exited ${code}: ${tail}\n`);
  });
  m.process = child;
}

async function killMember(m: EtcdMember): Promise<void> {
  const p = m.process;
  m.process = null;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await exited;
}

async function memberStatus(url: string): Promise<{ member: string; leader: string }> {
  const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
  const body = (await res.json()) as { header: { member_id: string }; leader: string };
  return { member: body.header.member_id, leader: body.leader };
}

/** Starts an n-member etcd cluster (1 by default) and waits until every member is healthy. */
export async function startEtcd(size = 1, opts: EtcdOptions = {}): Promise<EtcdCluster> {
  const bin = etcdBinary();
  const base = opts.dataRoot ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const members: EtcdMember[] = [];
  for (let i = 0; i < size; i++) {
    const [client, peer] = [await freePort(), await freePort()];
    members.push({
      name: `m${i}`, clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`,
      dataDir: await mkdtemp(join(base, 'proconsul-etcd-')), process: null,
    });
  }
  const initial = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const token = `proconsul-test-${process.pid}-${Date.now()}`;
  for (const m of members) launch(bin, m, args(m, initial, 'new', token, opts));
  const stop = async () => {
    for (const m of members) await killMember(m);
    for (const m of members) await rm(m.dataDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(members.map((m) => healthy(m)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    members,
    endpoints: members.map((m) => m.clientUrl),
    kill: (i) => killMember(members[i]),
    restart: async (i) => {
      launch(bin, members[i], args(members[i], initial, 'existing', token, opts));
      await healthy(members[i]);
    },
    leaderIndex: async () => {
      for (let i = 0; i < members.length; i++) {
        if (!members[i].process) continue;
        const s = await memberStatus(members[i].clientUrl).catch(() => null);
        if (s && s.member === s.leader) return i;
      }
      throw new Error('no etcd member reports itself leader');
    },
    stop,
  };
}
