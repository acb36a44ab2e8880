// What a client agent's forwarding costs: KV reads and writes sent to a server directly and
// through a client agent (which forwards them over the internal RPC, HTTP/1.1 keep-alive), at
// 1, 16 and 64 concurrent callers. Both agents are real `proconsul agent` processes; the server
// is -dev (memory store) on 127.0.0.1, the client on 127.0.0.4.
// Each cell also reports the client agent's CPU (user + system, /proc) per forwarded request.
// Usage: node bench/client-forward.ts [seconds per cell, default 3]
// PROCONSUL_BENCH_PROF=<dir>: the client agent runs with --cpu-prof into <dir>.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchClient, runCell, type CellResult } from './support/load.ts';
import { freePort } from '../test/support/etcd.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const seconds = Number(process.argv[2] ?? 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-client-forward-'));
const children: ChildProcess[] = [];

const prof = process.env.PROCONSUL_BENCH_PROF;

function agent(args: string[], execArgv: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...execArgv, BIN, 'agent', ...args, '-log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

/** A process's user + system CPU so far, µs (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuUs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const [http, serf, wan, rpc, chttp, cserf] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
agent(['-dev', '-node', 's1', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-http-port', String(http), '-dns-port', '-1', '-grpc-port', '-1',
  '-serf-lan-port', String(serf), '-serf-wan-port', String(wan), '-server-port', String(rpc)]);
const client = agent(['-node', 'c1', '-bind', '127.0.0.4', '-client', '127.0.0.4', '-http-port', String(chttp), '-dns-port', '-1', '-grpc-port', '-1',
  '-serf-lan-port', String(cserf), '-server-port', String(rpc), '-data-dir', path.join(dir, 'c1'), '-retry-join', `127.0.0.1:${serf}`, '-retry-interval', '1s'],
  prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []);
const targets = { server: `127.0.0.1:${http}`, client: `127.0.0.4:${chttp}` };
try {
  await until('the server', async () => (await fetch(`http://${targets.server}/v1/status/leader`)).ok);
  await until('the client to reach the server', async () => (await fetch(`http://${targets.client}/v1/status/leader`)).ok);
  const value = new Uint8Array(256).fill(120);
  await fetch(`http://${targets.server}/v1/kv/bench/read`, { method: 'PUT', body: value });
  const rows: string[] = [];
  const oneCaller: string[] = [];
  for (const concurrency of [1, 16, 64]) {
    const cells: Record<string, CellResult> = {};
    for (const [name, addr] of Object.entries(targets)) {
      const c = new BenchClient(addr, concurrency);
      // The client agent's CPU per request through it (direct cells: what the client spends idle).
      const timed = async (op: (i: number) => Promise<void>): Promise<CellResult> => {
        const before = cpuUs(client.pid!);
        const r = await runCell(concurrency, 1000, seconds * 1000, op);
        return { ...r, cpuUs: (cpuUs(client.pid!) - before) / r.total };
      };
      cells[`${name} GET`] = await timed(async () => { await c.request('GET', '/v1/kv/bench/read'); });
      cells[`${name} PUT`] = await timed(async (i) => { await c.request('PUT', `/v1/kv/bench/w${i % 512}`, value); });
      c.close();
    }
    for (const op of ['GET', 'PUT']) {
      const s = cells[`server ${op}`];
      const v = cells[`client ${op}`];
      if (concurrency === 1) oneCaller.push(`${op} ${(v.opsPerSec / s.opsPerSec).toFixed(2)}`);
      rows.push(`| ${op} | ${concurrency} | ${s.opsPerSec.toFixed(0)} | ${v.opsPerSec.toFixed(0)} | ${(v.opsPerSec / s.opsPerSec).toFixed(2)} `
        + `| ${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} | ${v.p50.toFixed(2)} / ${v.p99.toFixed(2)} | ${v.cpuUs!.toFixed(0)} |`);
    }
  }
  process.stdout.write(`${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${seconds} s per cell\n\n`
    + '| op | callers | server ops/s | via client ops/s | ratio | server p50 / p99 ms | via client p50 / p99 ms | client agent CPU µs / request |\n'
    + '|---|---|---|---|---|---|---|---|\n' + rows.join('\n') + '\n'
    + `\nratio through a client agent / direct to the server, one caller: ${oneCaller.join(', ')}\n`);
} finally {
  // A profiled client must exit on its own to write its profile.
  if (prof) await new Promise((r) => { client.once('exit', r); client.kill('SIGTERM'); });
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
