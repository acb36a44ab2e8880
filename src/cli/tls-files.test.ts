// The tls commands' file writes: an existing file is never replaced (not even one created after the
// command checked), and the temporary file is created exclusively, so a link planted at its name
// cannot redirect a private key elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memoryIO } from './io.ts';
import { writeAtomicWithPerms } from './tls-files.ts';

function scratch(): string {
  return fs.mkdtempSync(path.join(tmpdir(), 'proconsul-tls-files-'));
}

test('a file that appeared after the existence check is not overwritten', (t) => {
  const dir = scratch();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'consul-agent-ca-key.pem'), 'theirs');
  assert.throws(() => writeAtomicWithPerms(memoryIO({ cwd: dir }), 'consul-agent-ca-key.pem', 'KEY', 0o600), /consul-agent-ca-key\.pem already exists\./);
  assert.equal(fs.readFileSync(path.join(dir, 'consul-agent-ca-key.pem'), 'utf8'), 'theirs');
  assert.deepEqual(fs.readdirSync(dir), ['consul-agent-ca-key.pem'], 'no temporary file is left behind');
});

test('a symlink planted at any temporary name is not written through', (t) => {
  const dir = scratch();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'untouched', { mode: 0o644 });
  // Plant links at the names a predictable temporary name could take.
  const target = path.join(dir, 'k.pem');
  for (const name of [`${target}.tmp${process.pid}`, `${target}.tmp`]) fs.symlinkSync(victim, name);
  writeAtomicWithPerms(memoryIO({ cwd: dir }), 'k.pem', 'KEY', 0o600);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched');
  assert.equal(fs.readFileSync(target, 'utf8'), 'KEY');
  assert.equal(fs.lstatSync(target).isSymbolicLink(), false);
  assert.equal(fs.statSync(target).mode & 0o777, 0o600);
});

test('the mode is exact whatever the umask, and missing directories are made', (t) => {
  const dir = scratch();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const old = process.umask(0o077);
  try {
    writeAtomicWithPerms(memoryIO({ cwd: dir }), 'sub/ca.pem', 'CERT', 0o666);
  } finally {
    process.umask(old);
  }
  assert.equal(fs.statSync(path.join(dir, 'sub/ca.pem')).mode & 0o777, 0o666);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'sub')), ['ca.pem']);
});
