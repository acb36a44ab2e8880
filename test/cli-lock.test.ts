// `proconsul lock` as real processes (bin/proconsul.js) with real children against one dev
// agent: the semaphore bound with -n, mutual exclusion, -try timing out, SIGTERM handling,
// a lost lock killing the child, and the exit codes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsulClient } from '../src/api/index.ts';
import { memoryIO } from '../src/cli/io.ts';
import { runLock, type Shutdown } from '../src/cli/lock.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { waitFor } from './support/wait.ts';

const BIN = fileURLToPath(new URL('../bin/proconsul.js', import.meta.url));
let dev: DevAgent;
let client: ConsulClient;
const dir = mkdtempSync(join(tmpdir(), 'proconsul-cli-lock-'));

before(async () => {
  dev = await startDevAgent();
  client = new ConsulClient({ address: dev.httpAddr });
});
after(async () => {
  client.close();
  await dev.stop();
});

interface Run {
  proc: ChildProcess;
  done: Promise<{ code: number | null; out: string; err: string }>;
}

/** Starts `proconsul lock -http-addr=… args…` as a separate process. */
function lock(args: string[]): Run {
  const proc = spawn(process.execPath, [BIN, 'lock', `-http-addr=${dev.httpAddr}`, ...args], {
    env: { ...process.env, SHELL: '/bin/sh' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => { out += c; });
  proc.stderr!.on('data', (c: Buffer) => { err += c; });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    proc.on('close', (code) => resolve({ code, out, err }));
  });
  return { proc, done };
}

/** A child script that appends `<id> start|end <ns>` around a sleep. */
function recorder(file: string, id: number, seconds: number): string {
  return `echo ${id} start $(date +%s%N) >> ${file}; sleep ${seconds}; echo ${id} end $(date +%s%N) >> ${file}`;
}

/** Most children inside their recorded start..end at once, and how many finished. */
function concurrency(file: string): { max: number; finished: number } {
  const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => {
    const [id, what, ns] = l.split(' ');
    return { id, what, ns: BigInt(ns) };
  });
  // An end sorts before a start at the same instant: a release precedes the next acquisition.
  events.sort((a, b) => (a.ns === b.ns ? (a.what === 'end' ? -1 : 1) : a.ns < b.ns ? -1 : 1));
  let now = 0;
  let max = 0;
  for (const e of events) {
    now += e.what === 'start' ? 1 : -1;
    max = Math.max(max, now);
  }
  return { max, finished: events.filter((e) => e.what === 'end').length };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('proconsul lock', () => {
  test('-n 3: six concurrent lock processes, never more than three children at once, all six run', async () => {
    const file = join(dir, 'sem.log');
    const runs = [0, 1, 2, 3, 4, 5].map((i) => lock(['-n', '3', 'sem/prefix', recorder(file, i, 1)]));
    const results = await Promise.all(runs.map((r) => r.done));
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0, 0, 0, 0], results.map((r) => r.err).join(''));
    const { max, finished } = concurrency(file);
    assert.equal(finished, 6);
    assert.ok(max <= 3, `at most three holders at once, saw ${max}`);
    assert.ok(max >= 2, `the semaphore admits several holders, saw ${max}`);
    assert.deepEqual((await client.kv.keys('sem/prefix/')).data, [], 'contender entries released and the .lock key cleaned up');
  });

  test('-n 1 (default): mutual exclusion across processes; the child sees CONSUL_LOCK_HELD', async () => {
    const file = join(dir, 'mutex.log');
    const runs = [0, 1, 2].map((i) => lock(['mutex/prefix', `echo held=$CONSUL_LOCK_HELD; ${recorder(file, i, 0.3)}`]));
    const results = await Promise.all(runs.map((r) => r.done));
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0]);
    assert.ok(results.every((r) => r.out === 'held=true\n'));
    assert.deepEqual(concurrency(file), { max: 1, finished: 3 });
    assert.equal((await client.kv.get('mutex/prefix/.lock')).data, null);
  });

  test('-try times out on a held lock; SIGTERM kills the child and releases the lock', async () => {
    const pidFile = join(dir, 'held.pid');
    const holder = lock(['held/prefix', `echo $$ > ${pidFile}; exec sleep 30`]);
    await waitFor('the holder child', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), { every: 50 });
    const childPid = Number(readFileSync(pidFile, 'utf8'));

    const t0 = Date.now();
    const tried = await lock(['-try=500ms', 'held/prefix', 'true']).done;
    assert.deepEqual(tried, { code: 1, out: '', err: 'Shutdown triggered or timeout during lock acquisition\n' });
    assert.ok(Date.now() - t0 >= 500);

    holder.proc.kill('SIGTERM');
    const r = await holder.done;
    assert.equal(r.code, 0, r.err);
    assert.equal(alive(childPid), false, 'the child got SIGTERM');
    assert.equal((await client.kv.get('held/prefix/.lock')).data, null, 'released and cleaned up');
    assert.deepEqual((await client.session.list()).data.filter((s) => s.Name?.startsWith('Consul lock for')), [], 'session destroyed');
    assert.equal((await lock(['-timeout=2s', 'held/prefix', 'true']).done).code, 0, 'the next holder gets it at once');
  });

  test('a lost lock terminates the child (-verbose shows why)', async () => {
    const pidFile = join(dir, 'lost.pid');
    const holder = lock(['-verbose', 'lost/prefix', `echo $$ > ${pidFile}; exec sleep 30`]);
    await waitFor('the holder child', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), { every: 50 });
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    const session = (await client.kv.get('lost/prefix/.lock')).data!.Session!;
    await client.session.destroy(session);
    const r = await holder.done;
    assert.equal(r.code, 0);
    assert.match(r.out, /Setting up lock at path: lost\/prefix\/\.lock\nAttempting lock acquisition\nStarting handler\nLock lost, killing child\nTerminating child pid \d+\nChild terminated\n/);
    assert.equal(alive(childPid), false);
  });

  test('exit codes: the child failing is 0, or 2 with -child-exit-code; usage errors are 1', async () => {
    assert.deepEqual(await lock(['codes/a', 'exit 3']).done, { code: 0, out: '', err: 'Error running handler: exit status 3\n' });
    assert.deepEqual(await lock(['-child-exit-code', 'codes/b', 'exit 3']).done, { code: 2, out: '', err: 'Error running handler: exit status 3\n' });
    assert.equal((await lock(['-child-exit-code', 'codes/c', 'true']).done).code, 0);
    assert.deepEqual(await lock(['-shell=false', 'codes/d', 'no-such-binary-xyz']).done, {
      code: 0, out: '', err: 'Error starting handler: exec: "no-such-binary-xyz": executable file not found in $PATH\n',
    });
    assert.deepEqual(await lock(['codes/e']).done, { code: 1, out: '', err: 'Key prefix and child command must be specified\n' });
    assert.deepEqual(await lock(['-n=0', 'codes/f', 'true']).done, { code: 1, out: '', err: 'Lock holder limit must be positive\n' });
    assert.deepEqual(await lock(['-monitor-retry=-1', 'codes/g', 'true']).done, { code: 1, out: '', err: "Number for 'monitor-retry' must be >= 0\n" });
    await client.kv.put('codes/h/.lock', 'not a lock');
    assert.deepEqual(await lock(['codes/h', 'true']).done, { code: 1, out: '', err: 'Lock acquisition failed: Existing key does not match lock use\n' });
  });

  test('in-process with an in-memory io: output and -pass-stdin are piped; a shutdown stops the wait', async () => {
    const shutdown = (): Shutdown => ({ signal: new AbortController().signal, forward: new Set() });
    const io = memoryIO({ env: { SHELL: '/bin/sh', PATH: process.env.PATH }, stdin: 'from stdin' });
    const code = await runLock([`-http-addr=${dev.httpAddr}`, '-pass-stdin', 'inproc/prefix', 'echo out; cat; echo err >&2'], io, shutdown());
    assert.deepEqual({ code, out: io.out, err: io.err }, { code: 0, out: 'out\nfrom stdin', err: 'err\n' });

    const holder = client.lockKey('inproc/held/.lock');
    await holder.lock();
    const ctl = new AbortController();
    const waiting = memoryIO({ env: {} });
    setTimeout(() => ctl.abort('SIGINT'), 200);
    const stopped = await runLock([`-http-addr=${dev.httpAddr}`, 'inproc/held', 'true'], waiting, { signal: ctl.signal, forward: new Set() });
    assert.deepEqual({ code: stopped, err: waiting.err }, { code: 1, err: 'Shutdown triggered or timeout during lock acquisition\n' });
    await holder.unlock();
  });
});
