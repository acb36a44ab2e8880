// The agent's log file as Consul's logging.LogFile keeps it: truncated at start, rotated by size
// or age into <stem>-<unix ns><ext>, the newest rotate_max_files kept (-1: none, 0: all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { LogFile } from './log-file.ts';
import { tmpDir } from './test-tmp-dir.ts';

const tmp = () => tmpDir('pc-logfile-');
const ls = (d: string) => fs.readdirSync(d).sort();

test('a directory path gets consul.log; the file is truncated at start', () => {
  const d = tmp();
  fs.writeFileSync(path.join(d, 'consul.log'), 'old run\n');
  const f = new LogFile({ path: `${d}/`, rotateDurationMs: 0, rotateBytes: 0, rotateMaxFiles: 0 });
  f.write('a\n');
  f.close();
  assert.equal(fs.readFileSync(path.join(d, 'consul.log'), 'utf8'), 'a\n');
});

test('rotation by size and by age, names with the time in ns and the extension (.log when none)', async () => {
  const d = tmp();
  let now = 1_700_000_000_000;
  const f = new LogFile({ path: path.join(d, 'agent'), rotateDurationMs: 60_000, rotateBytes: 4, rotateMaxFiles: 0, now: () => now });
  f.write('1234');
  f.write('5');
  await f.flushed();
  assert.deepEqual(ls(d), ['agent', `agent-${now}000000.log`]);
  assert.equal(fs.readFileSync(path.join(d, `agent-${now}000000.log`), 'utf8'), '1234');
  now += 60_000;
  f.write('6');
  f.close();
  assert.deepEqual(ls(d), ['agent', `agent-${now - 60_000}000000.log`, `agent-${now}000000.log`]);
  assert.equal(fs.readFileSync(path.join(d, 'agent'), 'utf8'), '6');
});

test('log_rotate_max_files keeps the newest rotated files; -1 keeps none', () => {
  for (const [max, kept] of [[2, 2], [-1, 0], [0, 4]] as const) {
    const d = tmp();
    let now = 1_000;
    const f = new LogFile({ path: path.join(d, 'consul.log'), rotateDurationMs: 0, rotateBytes: 1, rotateMaxFiles: max, now: () => now++ });
    for (let i = 0; i < 5; i++) f.write(String(i));
    f.close();
    const rotated = ls(d).filter((x) => x !== 'consul.log');
    assert.equal(rotated.length, kept, `max ${max}`);
    if (max === 2) assert.deepEqual(rotated.map((x) => fs.readFileSync(path.join(d, x), 'utf8')), ['2', '3']);
  }
});

test('an unwritable path fails as Consul\'s setup does', () => {
  const p = path.join(tmp(), 'missing', 'consul.log');
  assert.throws(() => new LogFile({ path: p, rotateDurationMs: 0, rotateBytes: 0, rotateMaxFiles: 0 }),
    { message: `Failed to setup logging: open ${p}: no such file or directory` });
});

test('write() leaves the disk to a later turn of the event loop, in one write for the lines of a turn', async () => {
  const d = tmp();
  const file = path.join(d, 'consul.log');
  const f = new LogFile({ path: file, rotateDurationMs: 0, rotateBytes: 0, rotateMaxFiles: 0 });
  f.write('a\n');
  f.write('b\n');
  assert.equal(fs.readFileSync(file, 'utf8'), '');
  await f.flushed();
  assert.equal(fs.readFileSync(file, 'utf8'), 'a\nb\n');
  f.write('c\n');
  f.close();
  assert.equal(fs.readFileSync(file, 'utf8'), 'a\nb\nc\n');
});

test('lines queued when the process exits are written', () => {
  const d = tmp();
  const file = path.join(d, 'consul.log');
  const mod = new URL('./log-file.ts', import.meta.url).href;
  const code = `const { LogFile } = await import(${JSON.stringify(mod)});
const f = new LogFile({ path: ${JSON.stringify(file)}, rotateDurationMs: 0, rotateBytes: 0, rotateMaxFiles: 0 });
for (let i = 0; i < 1000; i++) f.write('line ' + i + '\\n');
process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.length, 1001);
  assert.equal(lines[999], 'line 999');
});
