// Patroni (Debian's `patroni`, PostgreSQL 15) nodes for test/patroni.test.ts: each node's config
// (Consul DCS at a Proconsul agent, REST API and PostgreSQL on 127.0.0.1), its process run as the
// `postgres` user when the test runs as root, psql against it, and a kill -9 of the node's Patroni
// and PostgreSQL (Patroni detaches the postmaster, and each PostgreSQL child has a session of its own).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Where Debian's postgresql-15 puts the server binaries (not on PATH). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Why Patroni nodes cannot run here (missing package), or undefined when they can. */
export function patroniMissing(): string | undefined {
  const v = spawnSync('patroni', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return `patroni is not installed (Debian package patroni; .ci/run installs it): ${v.error?.message ?? v.stderr}`;
  if (!fs.existsSync(path.join(PG_BIN, 'postgres'))) return `PostgreSQL 15 is not installed at ${PG_BIN} (Debian package postgresql)`;
  return undefined;
}

/** The DCS timings every node gets (Patroni's bootstrap.dcs, seconds). */
export interface DcsTimings {
  ttl: number;
  loopWait: number;
  retryTimeout: number;
}

/** One Patroni node of the test cluster. */
export interface PatroniNode {
  name: string;
  /** `http://127.0.0.1:<port>` of its REST API. */
  api: string;
  pgPort: number;
  dataDir: string;
  child: ChildProcess;
  /** Patroni's output so far (its log goes to stderr). */
  log: () => string;
}

/** What a node is started with. */
export interface NodeLaunch {
  scope: string;
  name: string;
  /** Proconsul's HTTP address, host:port. */
  consul: string;
  apiPort: number;
  pgPort: number;
  /** The node's own directory (data dir, socket dir, config, pgpass), created here. */
  dir: string;
  timings: DcsTimings;
}

/** Patroni's config for one node; JSON is YAML, which Patroni reads. */
export function patroniConfig(n: NodeLaunch): Record<string, unknown> {
  const hba = ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'];
  return {
    scope: n.scope, name: n.name,
    restapi: { listen: `127.0.0.1:${n.apiPort}`, connect_address: `127.0.0.1:${n.apiPort}` },
    consul: { host: n.consul, register_service: true, service_check_interval: '1s' },
    bootstrap: {
      dcs: { ttl: n.timings.ttl, loop_wait: n.timings.loopWait, retry_timeout: n.timings.retryTimeout, postgresql: { use_pg_rewind: true } },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }],
    },
    postgresql: {
      listen: `127.0.0.1:${n.pgPort}`, connect_address: `127.0.0.1:${n.pgPort}`,
      data_dir: path.join(n.dir, 'data'), bin_dir: PG_BIN, pgpass: path.join(n.dir, 'pgpass'), pg_hba: hba,
      authentication: { superuser: { username: 'postgres', password: 'su-secret' }, replication: { username: 'replicator', password: 'rep-secret' } },
      parameters: { unix_socket_directories: n.dir, shared_buffers: '16MB', max_wal_senders: 5, max_replication_slots: 5, fsync: 'off' },
    },
  };
}

/** The uid and gid of the `postgres` user the Debian package creates. */
function postgresIds(): { uid: number; gid: number } {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user (created by the Debian postgresql package)');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Runs `cmd` as `postgres` when we are root (PostgreSQL refuses to run as root), else as ourselves. */
function asPostgres(cmd: string[]): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...cmd] : cmd;
}

/** Gives `dir` (and what is in it) to the postgres user when we are root. */
export function ownForPostgres(dir: string): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = postgresIds();
  fs.chownSync(dir, uid, gid);
  for (const e of fs.readdirSync(dir, { recursive: true }) as string[]) fs.chownSync(path.join(dir, e), uid, gid);
}

/** Writes the node's config and starts `patroni` on it in a session of its own. */
export function startPatroni(n: NodeLaunch): PatroniNode {
  fs.mkdirSync(n.dir, { recursive: true, mode: 0o700 });
  const cfg = path.join(n.dir, 'patroni.yml');
  fs.writeFileSync(cfg, JSON.stringify(patroniConfig(n), null, 1));
  ownForPostgres(n.dir);
  const [cmd, ...args] = asPostgres(['patroni', cfg]);
  // detached: a new session, so the node's Patroni (and only it) can be killed as a group.
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: n.dir });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c; });
  child.stderr!.on('data', (c: Buffer) => { out += c; });
  return { name: n.name, api: `http://127.0.0.1:${n.apiPort}`, pgPort: n.pgPort, dataDir: path.join(n.dir, 'data'), child, log: () => out };
}

interface Proc { pid: number; ppid: number; sid: number }

/** Every process's pid, parent and session (from /proc/<pid>/stat). */
function processTable(): Proc[] {
  const procs: Proc[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the command (in parentheses, which may hold spaces): state ppid pgrp session …
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({ pid: Number(e), ppid: Number(rest[1]), sid: Number(rest[3]) });
    } catch { /* exited meanwhile */ }
  }
  return procs;
}

/** The postmaster's pid from its data dir (left there when it is killed). */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The node's processes: Patroni's session, and the postmaster with its children (each in a session of its own). */
function nodePids(node: PatroniNode): number[] {
  const procs = processTable();
  const pids = new Set(procs.filter((p) => p.sid === node.child.pid).map((p) => p.pid));
  const postmaster = postmasterPid(node.dataDir);
  if (postmaster !== undefined && procs.some((p) => p.pid === postmaster)) {
    pids.add(postmaster);
    for (const p of procs) if (p.ppid === postmaster) pids.add(p.pid);
  }
  return [...pids];
}

/** SIGKILLs the node's Patroni and its PostgreSQL (postmaster and children), as a crash would; the pids killed. */
export function killNode(node: PatroniNode): number[] {
  const pids = nodePids(node);
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
  }
  return pids;
}

/** Whether any of `pids` still runs (a zombie, killed but not yet reaped, does not). */
export function anyAlive(pids: number[]): boolean {
  return pids.some((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat[stat.lastIndexOf(')') + 2] !== 'Z';
    } catch {
      return false;
    }
  });
}

/** Runs `patronictl -c <the node's config> args…` (it reads the cluster from the DCS); its stdout. */
export function patronictl(node: PatroniNode, args: string[]): string {
  const r = spawnSync('patronictl', ['-c', path.join(path.dirname(node.dataDir), 'patroni.yml'), ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`patronictl ${args.join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Runs one SQL statement on the node through psql (as postgres over the node's socket dir); its output, unaligned. */
export function psql(node: PatroniNode, sql: string): string {
  const dir = path.dirname(node.dataDir);
  const [cmd, ...args] = asPostgres([path.join(PG_BIN, 'psql'), '-h', dir, '-p', String(node.pgPort), '-U', 'postgres', '-d', 'postgres', '-XAtq', '-c', sql]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`psql on ${node.name} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}
