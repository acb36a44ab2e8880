// bin/proconsul.js as a real process: the launcher loads the TypeScript CLI and exits with the
// command's code, output flushed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const bin = fileURLToPath(new URL('../bin/proconsul.js', import.meta.url));
const run = promisify(execFile);

test('`proconsul version -format=json` prints Consul\'s version document', async () => {
  const { stdout, stderr } = await run(process.execPath, [bin, 'version', '-format=json']);
  assert.equal(stderr, '');
  const info = JSON.parse(stdout);
  assert.equal(info.Version, '1.16.1');
  assert.deepEqual(info.RPC, { Default: 2, Min: 2, Max: 3 });
  assert.match(info.BuildDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('an unknown command exits 127 with usage on stderr', async () => {
  await assert.rejects(run(process.execPath, [bin, 'frobnicate']), (e: { code: number; stderr: string; stdout: string }) =>
    e.code === 127 && e.stdout === '' && e.stderr.startsWith('Usage: proconsul [--version] [--help] <command> [<args>]'));
});

test('`agent` keeps its own compile cache, apart from the other commands (its V8 flags differ)', async () => {
  // The cache directory is named after V8's flag hash at enableCompileCache(); code cached under
  // another flag set is rejected. bin/proconsul.js must set the agent's flags before enabling it.
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'proconsul-cc-'));
  try {
    const env = { ...process.env, TMPDIR: tmp, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined };
    await run(process.execPath, [bin, 'version'], { env });
    const plain = await readdir(path.join(tmp, 'node-compile-cache'));
    assert.equal(plain.length, 1);
    await run(process.execPath, [bin, 'agent', '-h'], { env });
    const all = await readdir(path.join(tmp, 'node-compile-cache'));
    assert.equal(all.length, 2, `agent used ${plain[0]}, the directory of the other commands`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
