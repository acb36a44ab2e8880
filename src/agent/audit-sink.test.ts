// The audit file sink's eventlogger behaviour: timestamped names with rotation on, rotation by
// size and by age, pruning to rotate_max_files, the sink's file mode, asynchronous ordered writes
// that never throw into a request, and config validation.
import { mock, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../clock.ts';
import { AuditFileSink, MAX_PENDING_BYTES } from './audit-sink.ts';
import { auditSettings, type AuditSinkSettings } from './audit-config.ts';
import { tmpDir } from '../test-tmp-dir.ts';

function sink(dir: string, s: Partial<AuditSinkSettings>, clock = new ManualClock(1_700_000_000_000), onError?: (err: unknown) => void) {
  return new AuditFileSink({ name: 's', path: path.join(dir, 'audit.json'), mode: 0o600, rotateBytes: 0, rotateDurationMs: 0, rotateMaxFiles: 0, ...s }, clock, onError);
}

test('without rotation the path itself is written, appended to, with mode 0600', async () => {
  const dir = tmpDir('audit-sink-');
  const s = sink(path.join(dir, 'sub'), {});
  s.write('a\n');
  s.write('b\n');
  await s.close();
  const file = path.join(dir, 'sub', 'audit.json');
  assert.equal(fs.readFileSync(file, 'utf8'), 'a\nb\n');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(dir, 'sub')).mode & 0o777, 0o700);
});

test('rotation by size: every file is <name>-<unix ns><ext>; rotate_max_files keeps the newest old ones', async () => {
  const dir = tmpDir('audit-sink-');
  const clock = new ManualClock(1_700_000_000_000);
  const s = sink(dir, { rotateBytes: 4, rotateMaxFiles: 2, mode: 0o640 }, clock);
  for (const line of ['1111\n', '2222\n', '3333\n', '4444\n', '5555\n']) {
    s.write(line);
    await s.flush();
    clock.advance(1);
  }
  await s.close();
  const files = fs.readdirSync(dir).sort();
  // Pruned to two old files before the fifth was opened, as eventlogger prunes.
  assert.equal(files.length, 3, files.join(','));
  for (const f of files) assert.match(f, /^audit-\d{19}\.json$/);
  assert.deepEqual(files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')), ['3333\n', '4444\n', '5555\n']);
  assert.equal(files[0], `audit-${1_700_000_000_002n * 1_000_000n}.json`);
  assert.equal(fs.statSync(path.join(dir, files[0])).mode & 0o777, 0o640);
});

test('rotation by age starts a new file once the current one is older than rotate_duration', async () => {
  const dir = tmpDir('audit-sink-');
  const clock = new ManualClock(1_700_000_000_000);
  const s = sink(dir, { rotateDurationMs: 60_000 }, clock);
  s.write('a\n');
  await s.flush();
  clock.advance(60_000);
  s.write('b\n');
  await s.flush();
  clock.advance(1);
  s.write('c\n');
  await s.close();
  assert.deepEqual(fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f), 'utf8')), ['a\nb\n', 'c\n']);
});

test('writes never block the event loop: write() only queues, and lines queued meanwhile go out together, in order', async () => {
  const dir = tmpDir('audit-sink-');
  const syncWrites = mock.method(fs, 'writeSync');
  const writes = mock.method(fs, 'write');
  try {
    const s = sink(dir, {});
    for (let i = 0; i < 100; i++) s.write(`${i}\n`);
    assert.equal(syncWrites.mock.callCount(), 0, 'no synchronous write');
    await s.close();
    assert.equal(fs.readFileSync(path.join(dir, 'audit.json'), 'utf8'), Array.from({ length: 100 }, (_, i) => `${i}\n`).join(''));
    assert.ok(writes.mock.callCount() <= 2, `${writes.mock.callCount()} writes for 100 lines`);
  } finally {
    syncWrites.mock.restore();
    writes.mock.restore();
  }
});

test('rotation by size splits a batch of queued lines where the file fills', async () => {
  const dir = tmpDir('audit-sink-');
  const s = sink(dir, { rotateBytes: 8 });
  for (const line of ['1111\n', '2222\n', '3333\n', '4444\n', '5555\n']) s.write(line);
  await s.close();
  assert.deepEqual(fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f), 'utf8')), ['1111\n2222\n', '3333\n4444\n', '5555\n']);
});

test('best-effort: a sink that cannot be written never throws to its caller, reports once per spell, then recovers', async () => {
  const dir = tmpDir('audit-sink-');
  const blocker = path.join(dir, 'blocker');
  fs.writeFileSync(blocker, ''); // a file where the sink's directory should be
  const errors: unknown[] = [];
  const s = sink(blocker, {}, undefined, (err) => errors.push(err));
  s.write('lost\n');
  await s.flush();
  s.write('lost too\n');
  await s.flush();
  assert.equal(errors.length, 1);
  fs.rmSync(blocker);
  s.write('kept\n');
  await s.close();
  assert.equal(fs.readFileSync(path.join(blocker, 'audit.json'), 'utf8'), 'kept\n');
});

test('a disk that falls behind: past MAX_PENDING_BYTES waiting, events are dropped, reported when it starts and counted when it ends', async () => {
  const dir = tmpDir('audit-sink-');
  let stalled = true;
  const held: (() => void)[] = [];
  type WriteCb = (err: Error | null, n: number) => void;
  const writes = mock.method(fs, 'write', (_fd: number, _buf: Buffer, _off: number, len: number, _pos: null, cb: WriteCb) => {
    if (stalled) held.push(() => cb(null, len));
    else queueMicrotask(() => cb(null, len));
  });
  try {
    const errors: string[] = [];
    const s = sink(dir, {}, undefined, (err) => errors.push((err as Error).message));
    s.write('first\n'); // in flight, never answered while stalled
    const big = 'x'.repeat(MAX_PENDING_BYTES / 8 - 1) + '\n';
    for (let i = 0; i < 10; i++) s.write(big); // the 9th and 10th do not fit
    assert.equal(errors.length, 1);
    assert.match(errors[0], /bytes of events wait for the disk; dropping events/);
    stalled = false;
    for (const release of held) release();
    await s.flush();
    s.write('after\n');
    assert.deepEqual(errors.slice(1), ['audit sink "s": 2 events were dropped while the disk was behind']);
    await s.close();
  } finally {
    writes.mock.restore();
  }
});

test('/dev/stdout goes through the process\'s stdout, in order with what the process writes there', () => {
  const sinkUrl = new URL('./audit-sink.ts', import.meta.url).href;
  const script = `
    const { AuditFileSink } = await import(${JSON.stringify(sinkUrl)});
    const s = new AuditFileSink({ name: 'o', path: '/dev/stdout', mode: 0o600, rotateBytes: 0, rotateDurationMs: 0, rotateMaxFiles: 0 }, { now: () => 0, setTimer: () => ({ cancel() {} }) });
    process.stdout.write('log 1\\n');
    s.write('event 1\\n');
    s.write('event 2\\n');
    await s.flush();
    process.stdout.write('log 2\\n');
    await s.close();
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(out, 'log 1\nevent 1\nevent 2\nlog 2\n');
});

test('the audit block: off unless enabled; Consul\'s only type, format and guarantee; octal modes', () => {
  assert.equal(auditSettings(undefined), null);
  assert.equal(auditSettings({ enabled: false, sink: { s: { path: '/x' } } }), null);
  const ok = auditSettings({ enabled: true, sink: { 'My sink': { type: 'file', format: 'json', path: '/tmp/a.json', delivery_guarantee: 'best-effort', mode: '640', rotate_duration: '24h', rotate_bytes: 25165824, rotate_max_files: 15 } } });
  assert.deepEqual(ok, { sinks: [{ name: 'My sink', path: '/tmp/a.json', mode: 0o640, rotateBytes: 25165824, rotateDurationMs: 86_400_000, rotateMaxFiles: 15 }] });
  assert.throws(() => auditSettings({ enabled: true, sink: { s: { type: 'syslog', path: '/x' } } }), /invalid type "syslog": only "file" is supported/);
  assert.throws(() => auditSettings({ enabled: true, sink: { s: { format: 'text', path: '/x' } } }), /invalid format/);
  assert.throws(() => auditSettings({ enabled: true, sink: { s: { delivery_guarantee: 'enforced', path: '/x' } } }), /invalid delivery_guarantee/);
  assert.throws(() => auditSettings({ enabled: true, sink: { s: { type: 'file' } } }), /path is required/);
  assert.throws(() => auditSettings({ enabled: true, sink: { s: { path: '/x', mode: 'rw' } } }), /invalid mode/);
});
