// The launcher on a Node without type stripping (Node 22 before 22.18, or Node 24 with
// --no-experimental-strip-types as here) re-runs itself with --experimental-strip-types. The agent
// must then still be the process users, pid files and supervisors know: a SIGTERM to that pid
// stops it (a child process would be left running, holding its ports, when the launcher died).
// Also what the launcher loads before an `agent` start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './support/ports.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');

async function waitForLeader(base: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}`);
    try {
      if (await (await fetch(`${base}/v1/status/leader`)).json()) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no leader');
}

/** The pids of `pid`'s descendants (Linux /proc), to end whatever a failing launcher left behind. */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { /* gone */ }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

interface Launched { child: ChildProcess; base: string; pidFile: string; output(): string; exited: Promise<[number | null, string | null]> }

/** `proconsul agent -dev` through the launcher under `nodeFlags`, to a leader; cleaned up after `body`. */
async function withAgent(nodeFlags: string[], body: (a: Launched) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-reexec-'));
  const port = await freePort();
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ ports: { http: port, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() } }));
  const pidFile = path.join(dir, 'agent.pid');
  const child = spawn(process.execPath, [...nodeFlags, BIN, 'agent', '-dev', '-config-file', cfg, '-pid-file', pidFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (code, signal) => r([code, signal])));
  let left: number[] = [];
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForLeader(base, child);
    left = descendants(child.pid!);
    await body({ child, base, pidFile, output: () => out, exited });
  } finally {
    child.kill('SIGKILL');
    for (const pid of left) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('without type stripping the launcher re-runs itself in place: the pid file names it and a SIGTERM to it stops the agent', { skip: process.platform !== 'linux' }, async () => {
  await withAgent(['--no-experimental-strip-types'], async ({ child, base, pidFile, exited }) => {
    assert.equal(fs.readFileSync(pidFile, 'utf8'), String(child.pid), 'the agent runs under the pid its starter knows');
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null], 'the agent itself caught the SIGTERM and shut down cleanly');
    await assert.rejects(fetch(`${base}/v1/status/leader`), 'nothing answers on the HTTP port any more');
  });
});

test('without process.execve (Node 22.13/22.14, 23.0–23.5) the launcher runs the agent as a child and passes it SIGHUP and SIGTERM sent to the launcher', { skip: process.platform !== 'linux' }, async () => {
  await withAgent(['--no-experimental-strip-types', '--import=data:text/javascript,delete process.execve'], async ({ child, base, output, exited }) => {
    assert.equal(descendants(child.pid!).length, 1, 'the agent is the launcher\'s child');
    child.kill('SIGHUP');
    for (let i = 0; i < 100 && !output().includes('Reloading configuration'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(output(), /Caught signal: hangup/, 'the agent reloaded on the SIGHUP sent to the launcher');
    assert.equal(child.exitCode, null, 'the launcher did not die of the SIGHUP');
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null], 'the launcher ended as the agent did: caught the SIGTERM and shut down cleanly');
    await assert.rejects(fetch(`${base}/v1/status/leader`), 'nothing answers on the HTTP port any more');
  });
});

test('an agent without a data directory does not load node:sqlite, which prints an ExperimentalWarning when loaded on Node 22 and early 24', { skip: process.platform !== 'linux' }, async () => {
  const probe = "data:text/javascript,process.on('exit', () => process.stderr.write(`sqlite loaded: ${process.moduleLoadList.some((m) => m.endsWith(' sqlite'))}\\n`))";
  await withAgent([`--import=${probe}`], async ({ child, output, exited }) => {
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
    assert.match(output(), /sqlite loaded: false/);
  });
});

test("the re-run keeps the user's node flags (a heap limit, an --import preload), as the agent process must run with them", () => {
  const probe = "data:text/javascript,process.stderr.write(`${process.features.typescript} ${process.getBuiltinModule('node:v8').getHeapStatistics().heap_size_limit >> 20}\\n`)";
  const r = spawnSync(process.execPath, ['--no-experimental-strip-types', '--max-old-space-size=123', `--import=${probe}`, BIN, 'version'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Proconsul v/);
  const runs = r.stderr.trim().split('\n').map((l) => l.split(' '));
  assert.equal(runs.length, 2, `the preload ran in the launcher and in its re-run: ${r.stderr}`);
  assert.equal(runs[1]![0], 'strip');
  assert.equal(runs[1]![1], runs[0]![1], "the re-run's heap limit is the launcher's, set by the user's flag");
  assert.ok(Number(runs[1]![1]) < 1024, `not V8's default heap limit: ${r.stderr}`);
});

test("the re-run hides Node's ExperimentalWarnings (type stripping's own) but not other process warnings (deprecations, listener leaks)", () => {
  const probe = "data:text/javascript,if (process.features.typescript) { process.emitWarning('probe deprecated', 'DeprecationWarning'); process.emitWarning('probe experimental', 'ExperimentalWarning') }";
  const r = spawnSync(process.execPath, ['--no-experimental-strip-types', `--import=${probe}`, BIN, 'version'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /DeprecationWarning: probe deprecated/);
  assert.doesNotMatch(r.stderr, /probe experimental/);
});

test('a Node whose --experimental-strip-types does not report process.features.typescript (22.6–22.9) is re-run once, not in a loop', () => {
  // Simulated on this Node: the preload (inherited through NODE_OPTIONS) hides the feature flag.
  const hide = "data:text/javascript,Object.defineProperty(process.features,'typescript',{value:undefined})"; // no spaces: NODE_OPTIONS
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${hide}` };
  const r = spawnSync(process.execPath, ['--no-experimental-strip-types', BIN, 'version'], { encoding: 'utf8', env, timeout: 15_000 });
  assert.equal(r.signal, null, 'the launcher ended by itself');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Proconsul v/);
});

/** A node on PATH older than type stripping (before 22.6), as a system Node often is; undefined if none. */
function oldNode(): string | undefined {
  const found = spawnSync('sh', ['-c', 'which -a node nodejs'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return found.find((bin) => {
    const v = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim().split('.').map(Number);
    return v.length === 3 && (v[0]! < 22 || (v[0] === 22 && v[1]! < 6));
  });
}

test('on a Node too old to strip types the checkout says which Node it needs, not "bad option"', (t) => {
  const old = oldNode();
  if (old === undefined) return t.skip('no node older than 22.6 on PATH');
  const r = spawnSync(old, [BIN, 'version'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /bad option/);
  assert.match(r.stderr, /^proconsul: Node\.js v\d+\.\d+\.\d+ cannot run .*22\.13 or later/);
});
