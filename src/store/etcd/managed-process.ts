// Supervises the local etcd member of a managed server (DESIGN §3): spawns the OS package's
// `etcd` with its data under <data_dir>/etcd, restarts it whenever it exits, stops it with the
// agent. A pid file lets the next agent end an etcd orphaned by a kill -9 of the previous one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdLogger } from './etcd.ts';

/** Where the member lives and how it is reached. */
export interface EtcdProcessOptions {
  /** The `etcd` binary (a PATH name or a path). */
  binary: string;
  /** Member name: the server's node name. */
  name: string;
  /** The member's data dir (`<data_dir>/etcd`). */
  dir: string;
  /** Advertised URLs (`http://advertise:port`). */
  clientUrl: string;
  peerUrl: string;
  /** Listen URLs (`http://bind:port`). */
  listenClientUrl: string;
  listenPeerUrl: string;
  /** etcd's TLS flags, made afresh for each spawn (it writes the PEM files they name); absent: plaintext. */
  tlsArgs?: () => string[];
  logger: EtcdLogger;
}

/** How the member first joins: a new cluster or an existing one. */
export interface ClusterSpec {
  /** `name=peerURL,…`, every member including this one. */
  initialCluster: string;
  state: 'new' | 'existing';
  token: string;
}

/** One line of etcd's stderr (zap JSON) shortened to its level, message and fields: no time, caller or stack. */
export function etcdLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { level, msg, ts: _ts, caller: _caller, stacktrace: _stack, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return [level, msg, ...rest].filter((x) => x !== undefined && x !== '').join(' ');
  } catch {
    return line;
  }
}

/** Restart delays after an unexpected exit: doubling from 500 ms up to 15 s. */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;

/** One supervised etcd process. */
export class EtcdProcess {
  readonly #o: EtcdProcessOptions;
  #child: ChildProcess | null = null;
  #spec: ClusterSpec | null = null;
  #stopping = false;
  #backoff = BACKOFF_MIN_MS;
  #restartTimer: NodeJS.Timeout | null = null;
  /** The end of the current process's stderr (etcd logs warnings and errors there). */
  #stderr = '';
  /** Times the process was (re)spawned. */
  spawns = 0;

  constructor(opts: EtcdProcessOptions) {
    this.#o = opts;
  }

  /** Whether the data dir already holds a member (a restart needs no join). */
  hasData(): boolean {
    return existsSync(join(this.#o.dir, 'member'));
  }

  /** The running process id, or 0. */
  pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** Spawns etcd and keeps it running until stop(). */
  start(spec: ClusterSpec): void {
    this.#spec = spec;
    this.#stopping = false;
    mkdirSync(this.#o.dir, { recursive: true, mode: 0o700 });
    this.#endOrphan();
    this.#spawn();
  }

  /** SIGTERM, then SIGKILL after 5 s; no restart afterwards. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const child = this.#child;
    this.#child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.#pidFile(), { force: true });
  }

  /**
   * The last `lines` lines etcd wrote to stderr since it was last spawned, shortened (etcdLine) and
   * joined with ` | `: while its member waits to join, they say why (a peer refusing its
   * certificate, an unreachable peer, a port in use).
   */
  recentOutput(lines = 3): string {
    return this.#stderr.trim().split('\n').filter(Boolean).slice(-lines).map(etcdLine).join(' | ');
  }

  #pidFile(): string {
    return join(this.#o.dir, 'etcd.pid');
  }

  #args(spec: ClusterSpec): string[] {
    const o = this.#o;
    // Once the data dir holds a member, etcd ignores the --initial-* flags.
    return [
      '--name', o.name, '--data-dir', o.dir,
      '--listen-client-urls', o.listenClientUrl, '--advertise-client-urls', o.clientUrl,
      '--listen-peer-urls', o.listenPeerUrl, '--initial-advertise-peer-urls', o.peerUrl,
      '--initial-cluster', spec.initialCluster, '--initial-cluster-state', spec.state,
      '--initial-cluster-token', spec.token,
      '--auto-compaction-mode', 'revision', '--auto-compaction-retention', '10000',
      // Snapshot restores are one transaction: allow many ops and large requests.
      '--max-txn-ops', '100000', '--max-request-bytes', String(32 * 1024 * 1024),
      '--logger', 'zap', '--log-level', 'warn',
      ...(o.tlsArgs?.() ?? []),
    ];
  }

  #spawn(): void {
    const child = spawn(this.#o.binary, this.#args(this.#spec!), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    this.spawns++;
    const started = Date.now();
    this.#stderr = '';
    child.stderr?.on('data', (d: Buffer) => { if (this.#child === child) this.#stderr = (this.#stderr + d.toString()).slice(-2000); });
    child.once('error', (err) => this.#o.logger.error({ err, binary: this.#o.binary }, 'etcd could not be started'));
    if (child.pid) writeFileSync(this.#pidFile(), String(child.pid));
    this.#o.logger.info({ pid: child.pid, name: this.#o.name, state: this.#spec!.state }, 'etcd member started');
    child.once('exit', (code, signal) => {
      const restart = () => {
        if (this.#stopping || this.#child !== child) return;
        // A member that ran for a minute was healthy: start the backoff again from the minimum.
        if (Date.now() - started > 60_000) this.#backoff = BACKOFF_MIN_MS;
        this.#o.logger.warn({ code, signal, restartInMs: this.#backoff, stderr: this.recentOutput() }, 'etcd member exited; restarting');
        this.#restartTimer = setTimeout(() => { if (!this.#stopping) this.#spawn(); }, this.#backoff);
        this.#backoff = Math.min(BACKOFF_MAX_MS, this.#backoff * 2);
      };
      // Its last stderr lines (why it exited) may arrive after the exit: log once the pipe closed.
      if (child.stderr && !child.stderr.destroyed) child.stderr.once('close', restart);
      else restart();
    });
  }

  /** Kills an etcd left running on our data dir by an agent that died without stopping it. */
  #endOrphan(): void {
    let pid = 0;
    try {
      pid = Number(readFileSync(this.#pidFile(), 'utf8').trim());
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(this.#o.dir)) return;
    } catch {
      return;
    }
    this.#o.logger.warn({ pid }, 'killing an orphaned etcd member of this data dir');
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* already gone */ }
    // Wait (at most 2 s) until its ports are free: gone, or a zombie waiting to be reaped.
    for (let i = 0; i < 200; i++) {
      try {
        if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z') break;
      } catch {
        break;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
