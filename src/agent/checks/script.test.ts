// Script checks against real processes: exit codes, no shell for args, legacy script through the
// shell, output truncation, start errors, and the timeout killing the whole process tree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { harness } from './test-support.ts';
import { tmpDir } from '../../test-tmp-dir.ts';

const on = { enableScriptChecks: true };

test('exit 0 passing, 1 warning, anything else critical; stdout and stderr captured', async () => {
  for (const [code, status] of [[0, 'passing'], [1, 'warning'], [2, 'critical']] as const) {
    const h = await harness({ Args: ['sh', '-c', `echo out; echo err >&2; exit ${code}`], Interval: 1000 }, on);
    assert.deepEqual(await h.runOnce(), [status, 'out\nerr\n']);
    h.runner.stop();
  }
});

test('args run without a shell; the legacy script form goes through sh -c', async () => {
  const h = await harness({ Args: ['echo', '$HOME', '*'], Interval: 1000 }, on);
  assert.deepEqual(await h.runOnce(), ['passing', '$HOME *\n']);
  h.runner.stop();
  const s = await harness({ Script: 'echo "$((1+2))"', Shell: '/bin/sh', Interval: 1000 }, on);
  assert.deepEqual(await s.runOnce(), ['passing', '3\n']);
  s.runner.stop();
});

test('it runs again every interval', async () => {
  const h = await harness({ Args: ['true'], Interval: 5000 }, on);
  await h.runOnce();
  assert.deepEqual(await h.runOnce(5000), ['passing', '']);
  assert.equal(h.reports.length, 3);
  h.runner.stop();
});

test('output over OutputMaxSize keeps the tail with Consul\'s notice', async () => {
  const h = await harness({ Args: ['sh', '-c', 'printf "%s" 0123456789abcdef'], Interval: 1000, OutputMaxSize: 6 }, on);
  assert.deepEqual(await h.runOnce(), ['passing', 'Captured 6 of 16 bytes\n...\nabcdef']);
  h.runner.stop();
});

test('a missing executable is critical with Go\'s text', async () => {
  const h = await harness({ Args: ['no-such-check-binary-xyz'], Interval: 1000 }, on);
  assert.deepEqual(await h.runOnce(), ['critical', 'exec: "no-such-check-binary-xyz": executable file not found in $PATH']);
  h.runner.stop();
  const p = await harness({ Args: ['/no/such/file'], Interval: 1000 }, on);
  assert.deepEqual(await p.runOnce(), ['critical', 'fork/exec /no/such/file: no such file or directory']);
  p.runner.stop();
});

/** True while `pid` runs; a zombie (killed, not yet reaped by a reparented init) counts as gone. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('on timeout the script and its children are killed and the check is critical', async () => {
  const dir = tmpDir('check-');
  const pidFile = join(dir, 'child.pid');
  const script = `sleep 30 & echo $! > ${pidFile}; echo started; wait`;
  const h = await harness({ Args: ['sh', '-c', script], Interval: 1000, Timeout: 500 }, { ...on, realClock: true });
  const started = Date.now();
  const [status, output] = await h.next();
  assert.equal(status, 'critical');
  assert.equal(output, 'Timed out (500ms) running check\n\nstarted\n');
  assert.ok(Date.now() - started < 5000);
  const child = Number(readFileSync(pidFile, 'utf8'));
  for (let i = 0; i < 50 && alive(child); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(child), false, 'the grandchild sleep was killed with its group');
  h.runner.stop();
});

test('the default script timeout text says 30s', async () => {
  const { commandResultStatus } = await import('./script.ts');
  const { createTailBuffer } = await import('./output.ts');
  const r = commandResultStatus({ exitCode: null, output: createTailBuffer(10), timedOut: true }, 30_000);
  assert.deepEqual(r, { status: 'critical', output: 'Timed out (30s) running check' });
});

test('stop() kills a script in flight and drops its result', async () => {
  const dir = tmpDir('check-');
  const pidFile = join(dir, 'self.pid');
  const h = await harness({ Args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], Interval: 1000 }, on);
  h.manual!.advance(0);
  for (let i = 0; i < 100; i++) {
    try { readFileSync(pidFile, 'utf8'); break; } catch { await new Promise((r) => setTimeout(r, 10)); }
  }
  const pid = Number(readFileSync(pidFile, 'utf8'));
  h.runner.stop();
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(pid), false);
  assert.equal(h.reports.length, 1, 'only the initial status');
});
