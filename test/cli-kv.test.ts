// `proconsul kv …` end to end: the CLI runs in-process with a capturing io against a real dev
// agent over HTTP, checking Consul's exact output texts and exit codes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { startDevAgent } from './support/agent.ts';
import { cliAgent } from './support/cli.ts';

describe('kv commands against a dev agent', () => {
  const dev = cliAgent();
  const { cli } = dev;
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-cli-kv-'));

  test('put then get; a missing key is an error', async () => {
    assert.deepEqual(await cli(['kv', 'put', 'redis/config/connections', '5']), { code: 0, out: 'Success! Data written to: redis/config/connections\n', err: '' });
    assert.deepEqual(await cli(['kv', 'get', 'redis/config/connections']), { code: 0, out: '5\n', err: '' });
    assert.deepEqual(await cli(['kv', 'get', '/redis/config/connections']), { code: 0, out: '5\n', err: '' });
    assert.deepEqual(await cli(['kv', 'get', 'nope']), { code: 1, out: '', err: 'Error! No key exists at: nope\n' });
  });

  test('put -acquire/-release with -session: Consul\'s messages, exclusion and LockIndex', async () => {
    const mk = async () => ((await (await fetch(`http://${dev.agent.httpAddr}/v1/session/create`, { method: 'PUT', body: '{"LockDelay":"0s"}' })).json()) as { ID: string }).ID;
    const [a, b] = [await mk(), await mk()];
    assert.deepEqual(await cli(['kv', 'put', '-acquire', `-session=${a}`, 'locks/db', 'a']), { code: 0, out: 'Success! Lock acquired on: locks/db\n', err: '' });
    assert.deepEqual(await cli(['kv', 'put', '-acquire', `-session=${b}`, 'locks/db', 'b']), { code: 1, out: '', err: 'Error! Did not acquire lock\n' });
    assert.match((await cli(['kv', 'get', '-detailed', 'locks/db'])).out, new RegExp(`^LockIndex {8}1\nModifyIndex {6}\\d+\nSession {10}${a}$`, 'm'));
    assert.deepEqual(await cli(['kv', 'put', '-release', `-session=${b}`, 'locks/db']), { code: 1, out: '', err: 'Error! Did not release lock\n' });
    assert.deepEqual(await cli(['kv', 'put', '-release', `-session=${a}`, 'locks/db']), { code: 0, out: 'Success! Lock released on: locks/db\n', err: '' });
    assert.deepEqual(await cli(['kv', 'put', '-acquire', 'locks/db']), { code: 1, out: '', err: 'Error! Missing -session (required with -acquire and -release)\n' });
  });

  test('put from stdin, @file, -base64 and an empty value', async () => {
    assert.equal((await cli(['kv', 'put', 'in/stdin', '-'], 'abcd1234')).code, 0);
    assert.equal((await cli(['kv', 'get', 'in/stdin'])).out, 'abcd1234\n');
    const file = join(dir, 'license.lic');
    writeFileSync(file, 'LICENSE');
    assert.equal((await cli(['kv', 'put', 'in/file', `@${file}`])).code, 0);
    assert.equal((await cli(['kv', 'get', 'in/file'])).out, 'LICENSE\n');
    assert.equal((await cli(['kv', 'put', '-base64', 'in/b64', Buffer.from('decoded').toString('base64')])).code, 0);
    assert.equal((await cli(['kv', 'get', 'in/b64'])).out, 'decoded\n');
    assert.equal((await cli(['kv', 'put', 'in/empty'])).code, 0);
    assert.deepEqual(await cli(['kv', 'get', 'in/empty']), { code: 0, out: '\n', err: '' });
  });

  test('-detailed, -recurse, -keys, -separator, -base64', async () => {
    await cli(['kv', 'put', '-flags=42', 'tree/a', 'A']);
    await cli(['kv', 'put', 'tree/sub/b', 'B']);
    const d = await cli(['kv', 'get', '-detailed', 'tree/a']);
    assert.equal(d.code, 0);
    assert.match(d.out, /^CreateIndex {6}\d+\nFlags {12}42\nKey {14}tree\/a\nLockIndex {8}0\nModifyIndex {6}\d+\nSession {10}-\nValue {12}A\n$/);
    assert.deepEqual(await cli(['kv', 'get', '-recurse', 'tree/']), { code: 0, out: 'tree/a:A\ntree/sub/b:B\n', err: '' });
    assert.equal((await cli(['kv', 'get', '-recurse', '-base64', 'tree/'])).out, 'tree/a:QQ==\ntree/sub/b:Qg==\n');
    assert.deepEqual(await cli(['kv', 'get', '-keys', 'tree/']), { code: 0, out: 'tree/a\ntree/sub/\n', err: '' });
    assert.equal((await cli(['kv', 'get', '-keys', '-separator=', 'tree/'])).out, 'tree/a\ntree/sub/b\n');
    const dr = await cli(['kv', 'get', '-recurse', '-detailed', 'tree/']);
    assert.match(dr.out, /Value {12}A\n\nCreateIndex/);
    assert.deepEqual(await cli(['kv', 'get', '-recurse', 'no-such-prefix/']), { code: 0, out: '', err: '' });
  });

  test('check-and-set writes and deletes', async () => {
    await cli(['kv', 'put', 'cas/key', 'one']);
    const index = Number(/ModifyIndex\s+(\d+)/.exec((await cli(['kv', 'get', '-detailed', 'cas/key'])).out)![1]);
    assert.deepEqual(await cli(['kv', 'put', '-cas', `-modify-index=${index + 100}`, 'cas/key', 'two']), { code: 1, out: '', err: 'Error! Did not write to cas/key: CAS failed\n' });
    assert.deepEqual(await cli(['kv', 'put', '-cas', `-modify-index=${index}`, 'cas/key', 'two']), { code: 0, out: 'Success! Data written to: cas/key\n', err: '' });
    assert.deepEqual(await cli(['kv', 'delete', '-cas', `-modify-index=${index}`, 'cas/key']), { code: 1, out: '', err: 'Error! Did not delete key cas/key: CAS failed\n' });
    const now = Number(/ModifyIndex\s+(\d+)/.exec((await cli(['kv', 'get', '-detailed', 'cas/key'])).out)![1]);
    assert.deepEqual(await cli(['kv', 'delete', '-cas', `-modify-index=${now}`, 'cas/key']), { code: 0, out: 'Success! Deleted key: cas/key\n', err: '' });
  });

  test('delete a key and a prefix', async () => {
    await cli(['kv', 'put', 'del/a', '1']);
    await cli(['kv', 'put', 'del/b/c', '2']);
    assert.deepEqual(await cli(['kv', 'delete', 'del/a']), { code: 0, out: 'Success! Deleted key: del/a\n', err: '' });
    assert.deepEqual(await cli(['kv', 'delete', 'del/never']), { code: 0, out: 'Success! Deleted key: del/never\n', err: '' });
    assert.deepEqual(await cli(['kv', 'delete', '-recurse', 'del/']), { code: 0, out: 'Success! Deleted keys with prefix: del/\n', err: '' });
    assert.equal((await cli(['kv', 'get', 'del/b/c'])).code, 1);
  });

  test('export then import round-trips a tree (values, flags, binary)', async () => {
    await cli(['kv', 'put', '-flags=7', 'exp/one', 'first']);
    await cli(['kv', 'put', '-base64', 'exp/bin', Buffer.from([0, 1, 254, 255]).toString('base64')]);
    const exported = await cli(['kv', 'export', 'exp/']);
    assert.equal(exported.code, 0);
    assert.equal(exported.out, [
      '[', '\t{', '\t\t"key": "exp/bin",', '\t\t"flags": 0,', '\t\t"value": "AAH+/w=="', '\t},',
      '\t{', '\t\t"key": "exp/one",', '\t\t"flags": 7,', `\t\t"value": "${Buffer.from('first').toString('base64')}"`, '\t}', ']', '',
    ].join('\n'));
    await cli(['kv', 'delete', '-recurse', 'exp/']);
    assert.equal((await cli(['kv', 'export', 'exp/'])).out, '[]\n');
    assert.deepEqual(await cli(['kv', 'import', '-'], exported.out), { code: 0, out: 'Imported: exp/bin\nImported: exp/one\n', err: '' });
    assert.equal((await cli(['kv', 'export', 'exp/'])).out, exported.out);
    const file = join(dir, 'export.json');
    writeFileSync(file, '[{"key":"imp/file","flags":0,"value":"eA=="}]');
    assert.deepEqual(await cli(['kv', 'import', `@${file}`]), { code: 0, out: 'Imported: imp/file\n', err: '' });
    assert.deepEqual(await cli(['kv', 'import', '[{"key":"imp/bad","value":"!!"}]']), { code: 1, out: '', err: 'Error base 64 decoding value for key imp/bad: illegal base64 data at input byte 0\n' });
    const bad = await cli(['kv', 'import', 'not json']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^Cannot unmarshal data: /);
  });

  test('-datacenter for an unknown datacenter reports the server error', async () => {
    const r = await cli(['kv', 'get', '-datacenter=nowhere', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^Error querying Consul agent: Unexpected response code: 500 \(No path to datacenter\)\n$/);
  });

  test('-http-addr flag wins over CONSUL_HTTP_ADDR', async () => {
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: '127.0.0.1:1' } });
    assert.equal(await runCli(['kv', 'put', `-http-addr=http://${dev.agent.httpAddr}`, 'flag/addr', 'ok'], io), 0);
    assert.equal(io.out, 'Success! Data written to: flag/addr\n');
  });
});

describe('uint64 flags', () => test('values above 2^53 survive kv put, get -detailed, export and import exactly', async () => {
  const dev = await startDevAgent();
  try {
    const run = async (...argv: string[]) => {
      const io = memoryIO();
      const code = await runCli([argv[0], argv[1], `-http-addr=${dev.httpAddr}`, ...argv.slice(2)], io);
      return { code, out: io.out };
    };
    assert.equal((await run('kv', 'put', '-flags=3304740253564472344', 'big/flag', 'v')).code, 0);
    assert.match((await run('kv', 'get', '-detailed', 'big/flag')).out, /^Flags {12}3304740253564472344$/m);
    const exported = (await run('kv', 'export', 'big/')).out;
    assert.match(exported, /"flags": 3304740253564472344,/);
    await run('kv', 'delete', 'big/flag');
    const io = memoryIO();
    assert.equal(await runCli(['kv', 'import', `-http-addr=${dev.httpAddr}`, exported], io), 0);
    const raw = await (await fetch(`http://${dev.httpAddr}/v1/kv/big/flag`)).text();
    assert.match(raw, /"Flags":3304740253564472344,/);
  } finally {
    await dev.stop();
  }
}));
