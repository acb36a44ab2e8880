// bin/proconsul.js as a real process: the launcher loads the TypeScript CLI and exits with the
// command's code, output flushed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
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
