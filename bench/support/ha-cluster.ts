// A 3-server Proconsul datacenter for bench/failover.ts: three `bin/proconsul.js agent -server
// -store etcd://…` processes on one 3-member etcd cluster (as in test/ha-crash.test.ts), plus the
// probes both failover measurements share: the agreed leader, and "the first acknowledged write
// after t0" by launching a fresh attempt every few milliseconds and keeping the earliest success.
// PROCONSUL_BENCH_LOG=warn (or debug) shows the agents' own logs, which are off otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { etcdStoreUrl, freePort, type EtcdCluster } from '../../test/support/etcd.ts';
import { monoMs, sleep } from './proc.ts';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'proconsul.js');
const LOG = process.env.PROCONSUL_BENCH_LOG;

/** One server agent process. */
export interface ServerAgent {
  node: string;
  child: ChildProcess;
  /** `http://127.0.0.1:PORT` */
  http: string;
  /** `127.0.0.1:PORT`, what /v1/status/leader answers. */
  server: string;
}

/** Three server agents sharing one etcd cluster. */
export interface HaCluster {
  agents: ServerAgent[];
  /** SIGKILLs every agent still running and removes their data dirs. */
  stop(): Promise<void>;
}

/** Starts three server agents on `etcd` (all endpoints each) and resolves once they agree on a leader. */
export async function startHaCluster(etcd: EtcdCluster): Promise<HaCluster> {
  const store = etcdStoreUrl(etcd);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-failover-'));
  const agents: ServerAgent[] = [];
  for (const node of ['s1', 's2', 's3']) {
    const [http, server, serfLan, serfWan] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const cfg = path.join(dir, `${node}.json`);
    fs.writeFileSync(cfg, JSON.stringify({ ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: serfLan, serf_wan: serfWan, server } }));
    const child = spawn(process.execPath, [BIN, 'agent', '-server', '-node', node, '-bind', '127.0.0.1', '-client', '127.0.0.1',
      '-store', store, '-data-dir', path.join(dir, node), '-config-file', cfg, '-log-level', LOG ?? 'error'], { stdio: ['ignore', LOG ? 'inherit' : 'ignore', 'inherit'] });
    agents.push({ node, child, http: `http://127.0.0.1:${http}`, server: `127.0.0.1:${server}` });
  }
  const stop = async () => {
    await Promise.all(agents.map((a) => kill(a.child)));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await agreedLeader(agents, '', 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { agents, stop };
}

/** SIGKILLs `child` and resolves when it has exited. */
export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

async function leaderOf(a: ServerAgent): Promise<string> {
  try {
    const res = await fetch(`${a.http}/v1/status/leader`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as string) : '';
  } catch {
    return '';
  }
}

/** Polls every 10 ms until all `agents` name the same leader other than `not`; returns its server address. */
export async function agreedLeader(agents: ServerAgent[], not: string, timeoutMs: number): Promise<string> {
  const deadline = monoMs() + timeoutMs;
  for (;;) {
    const seen = await Promise.all(agents.map(leaderOf));
    if (seen[0] && seen[0] !== not && seen.every((s) => s === seen[0])) return seen[0];
    if (monoMs() > deadline) throw new Error(`no agreed leader after ${timeoutMs} ms (saw ${JSON.stringify(seen)})`);
    await sleep(10);
  }
}

/**
 * Launches `attempt(n)` every `everyMs` until one resolves true, and returns the monotonic time
 * at which the first one did; attempts may overlap, so a request stuck on a dead member never
 * hides a later one that succeeds. Rejects after `timeoutMs`.
 */
export function firstAck(attempt: (n: number, signal: AbortSignal) => Promise<boolean>, everyMs: number, timeoutMs: number): Promise<number> {
  const ctl = new AbortController();
  return new Promise<number>((resolve, reject) => {
    let n = 0;
    let done = false;
    const finish = (err: Error | null, t = 0) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(limit);
      ctl.abort();
      if (err) reject(err);
      else resolve(t);
    };
    const launch = () => {
      attempt(n++, ctl.signal).then((ok) => { if (ok) finish(null, monoMs()); }, () => undefined);
    };
    const timer = setInterval(launch, everyMs);
    const limit = setTimeout(() => finish(new Error(`no acknowledged write within ${timeoutMs} ms`)), timeoutMs);
    launch();
  });
}

/** One KV PUT through `a`; true when the agent answered `true`. */
export async function agentPut(a: ServerAgent, key: string, signal: AbortSignal): Promise<boolean> {
  const res = await fetch(`${a.http}/v1/kv/${key}`, { method: 'PUT', body: 'x', signal });
  return res.ok && (await res.text()).trim() === 'true';
}
