// The audit file sink's eventlogger behaviour: timestamped names with rotation on, rotation by
// size and by age, pruning to rotate_max_files, the sink's file mode, and config validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../clock.ts';
import { AuditFileSink } from './audit-sink.ts';
import { auditSettings, type AuditSinkSettings } from './audit-config.ts';

function sink(dir: string, s: Partial<AuditSinkSettings>, clock = new ManualClock(1_700_000_000_000)) {
  return new AuditFileSink({ name: 's', path: path.join(dir, 'audit.json'), mode: 0o600, rotateBytes: 0, rotateDurationMs: 0, rotateMaxFiles: 0, ...s }, clock);
}

test('without rotation the path itself is written, appended to, with mode 0600', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-sink-'));
  const s = sink(path.join(dir, 'sub'), {});
  s.write('a\n');
  s.write('b\n');
  s.close();
  const file = path.join(dir, 'sub', 'audit.json');
  assert.equal(fs.readFileSync(file, 'utf8'), 'a\nb\n');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(dir, 'sub')).mode & 0o777, 0o700);
});

test('rotation by size: every file is <name>-<unix ns><ext>; rotate_max_files keeps the newest old ones', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-sink-'));
  const clock = new ManualClock(1_700_000_000_000);
  const s = sink(dir, { rotateBytes: 4, rotateMaxFiles: 2, mode: 0o640 }, clock);
  for (const line of ['1111\n', '2222\n', '3333\n', '4444\n', '5555\n']) {
    s.write(line);
    clock.advance(1);
  }
  s.close();
  const files = fs.readdirSync(dir).sort();
  // Pruned to two old files before the fifth was opened, as eventlogger prunes.
  assert.equal(files.length, 3, files.join(','));
  for (const f of files) assert.match(f, /^audit-\d{19}\.json$/);
  assert.deepEqual(files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')), ['3333\n', '4444\n', '5555\n']);
  assert.equal(files[0], `audit-${1_700_000_000_002n * 1_000_000n}.json`);
  assert.equal(fs.statSync(path.join(dir, files[0])).mode & 0o777, 0o640);
});

test('rotation by age starts a new file once the current one is older than rotate_duration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-sink-'));
  const clock = new ManualClock(1_700_000_000_000);
  const s = sink(dir, { rotateDurationMs: 60_000 }, clock);
  s.write('a\n');
  clock.advance(60_000);
  s.write('b\n');
  clock.advance(1);
  s.write('c\n');
  s.close();
  assert.deepEqual(fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f), 'utf8')), ['a\nb\n', 'c\n']);
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
