import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryIO } from './io.ts';
import { runCli } from './registry.ts';
import { detailedPair } from './kv-get.ts';
import { dataFromArgs } from './kv-put.ts';
import { importData } from './kv-import.ts';
import { clientFromFlags, HTTP_FLAGS } from './http-flags.ts';
import { parseFlags } from './flags.ts';
import { tmpDir } from '../test-tmp-dir.ts';

const dir = tmpDir('proconsul-cli-');

async function run(argv: string[], env: NodeJS.ProcessEnv = {}, stdin?: string) {
  const io = memoryIO({ env, stdin });
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

test('argument errors are reported before any request, with Consul texts', async () => {
  const cases: [string[], string][] = [
    [['kv', 'get'], 'Error! Missing KEY argument\n'],
    [['kv', 'get', 'a', 'b'], 'Too many arguments (expected 1, got 2)\n'],
    [['kv', 'put'], 'Error! Missing KEY argument\n'],
    [['kv', 'put', 'a', 'b', 'c'], 'Error! Too many arguments (expected 1 or 2, got 3)\n'],
    [['kv', 'put', '-acquire', 'k'], 'Error! Missing -session (required with -acquire and -release)\n'],
    [['kv', 'put', '-cas', 'k', 'v'], 'Must specify -modify-index with -cas!\n'],
    [['kv', 'put', '-base64', 'k', 'not base64!'], 'Error! Cannot base 64 decode data: illegal base64 data at input byte 3\n'],
    [['kv', 'put', 'k', '@/nonexistent/file'], 'Error! Failed to read file: open /nonexistent/file: no such file or directory\n'],
    [['kv', 'delete'], 'Error! Missing KEY argument\n'],
    [['kv', 'delete', '-cas', 'k'], 'Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.\n'],
    [['kv', 'delete', '-modify-index=3', 'k'], 'Cannot specify -modify-index without -cas!\n'],
    [['kv', 'delete', '-cas', '-modify-index=3', '-recurse', 'k'], 'Cannot specify both -cas and -recurse!\n'],
    [['kv', 'export', 'a', 'b'], 'Too many arguments (expected 1, got 2)\n'],
    [['kv', 'import'], 'Error! Missing DATA argument\n'],
    [['kv', 'import', ''], 'Error! Empty DATA argument\n'],
    [['kv', 'import', 'a', 'b'], 'Error! Too many arguments (expected 1, got 2)\n'],
  ];
  for (const [argv, err] of cases) {
    const r = await run(argv, { CONSUL_HTTP_ADDR: '127.0.0.1:1' });
    assert.deepEqual({ argv, code: r.code, err: r.err, out: r.out }, { argv, code: 1, err, out: '' });
  }
});

test('client configuration errors read "Error connecting to Consul agent"', async () => {
  const r = await run(['kv', 'get', 'k'], { CONSUL_HTTP_ADDR: 'ftp://x:1' });
  assert.deepEqual([r.code, r.err], [1, 'Error connecting to Consul agent: Unknown protocol scheme: ftp\n']);
  const t = await run(['kv', 'put', '-token-file', join(dir, 'missing'), 'k', 'v']);
  assert.equal(t.err, `Error connecting to Consul agent: Error loading token file: open ${join(dir, 'missing')}: no such file or directory\n`);
});

test('an unreachable agent is "Error querying Consul agent" with Go\'s url.Error text', async () => {
  const r = await run(['kv', 'get', '-http-addr=127.0.0.1:1', 'a/b']);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Error querying Consul agent: Get "http://127.0.0.1:1/v1/kv/a/b": dial tcp 127.0.0.1:1: connect: connection refused\n');
  const p = await run(['kv', 'put', '-http-addr=127.0.0.1:1', 'k', 'v']);
  assert.equal(p.err, 'Error! Failed writing data: Put "http://127.0.0.1:1/v1/kv/k": dial tcp 127.0.0.1:1: connect: connection refused\n');
});

test('CLI token precedence follows Consul: a token file (flag or env) beats -token', () => {
  const file = join(dir, 'tok');
  writeFileSync(file, 'from-file\n');
  const token = (argv: string[], env: NodeJS.ProcessEnv) => {
    const c = clientFromFlags(parseFlags(HTTP_FLAGS, argv), env);
    c.close();
    return c.config.token;
  };
  assert.equal(token(['-token=flag'], { CONSUL_HTTP_TOKEN: 'env' }), 'flag');
  assert.equal(token([], { CONSUL_HTTP_TOKEN: 'env' }), 'env');
  assert.equal(token(['-token=flag'], { CONSUL_HTTP_TOKEN_FILE: file }), 'from-file');
  assert.equal(token(['-token-file', file, '-token=flag'], {}), 'from-file');
  assert.equal(token(['-http-addr=unix:///tmp/x.sock'], {}), '');
});

test('-detailed output is aligned as Go tabwriter aligns it', () => {
  const pair = { Key: 'foo', Flags: 3, LockIndex: 0, CreateIndex: 10, ModifyIndex: 12, Value: Buffer.from('bar').toString('base64') };
  assert.equal(detailedPair(pair, false), [
    'CreateIndex      10', 'Flags            3', 'Key              foo', 'LockIndex        0',
    'ModifyIndex      12', 'Session          -', 'Value            bar',
  ].join('\n'));
  assert.match(detailedPair({ ...pair, Session: 'abc' }, true), /\nSession {10}abc\nValue {12}YmFy$/);
});

test('put data comes from the argument, @file or stdin; "-x" is literal', async () => {
  const file = join(dir, 'value');
  writeFileSync(file, Buffer.from([1, 2, 3]));
  const io = memoryIO({ stdin: 'from stdin' });
  assert.deepEqual(await dataFromArgs(['k'], io.stdin), { key: 'k', data: Buffer.alloc(0) });
  assert.deepEqual(await dataFromArgs(['k', 'v'], io.stdin), { key: 'k', data: Buffer.from('v') });
  assert.deepEqual(await dataFromArgs(['k', `@${file}`], io.stdin), { key: 'k', data: Buffer.from([1, 2, 3]) });
  assert.deepEqual(await dataFromArgs(['k', '-x'], io.stdin), { key: 'k', data: Buffer.from('-x') });
  assert.deepEqual(await dataFromArgs(['k', '-'], io.stdin), { key: 'k', data: Buffer.from('from stdin') });
  assert.equal(await importData(['-'], memoryIO({ stdin: '[]' }).stdin), '[]');
});
