// `proconsul watch` end to end: a real `bin/proconsul.js watch` process with a script handler
// against a dev agent (fires once at start and on every change of the key, never for other
// writes; JSON on stdin, CONSUL_INDEX set; SIGINT exits 0), plus the print-once mode and
// Consul's parameter errors in-process; -type=event fires per new event of its name with the
// exact 64-bit event index in CONSUL_INDEX.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventApi, eventIdToIndex } from '../src/api/event.ts';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { cliAgent } from './support/cli.ts';

const bin = fileURLToPath(new URL('../bin/proconsul.js', import.meta.url));

describe('watch against a dev agent', () => {
  const dev = cliAgent();
  const { cli } = dev;
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-cli-watch-'));

  /** The handler invocations recorded so far: CONSUL_INDEX and the parsed stdin of each. */
  function calls(file: string): { index: number; data: any }[] {
    if (!existsSync(file)) return [];
    // The handler may be mid-write: only lines ended by a newline are complete calls.
    const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    return lines.filter(Boolean).map((line) => {
      const [index, json] = line.split('\t');
      return { index: Number(index), data: JSON.parse(json) };
    });
  }

  async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  test('-type=key with a script handler fires on each change of the key and not otherwise', async () => {
    const log = join(dir, 'calls.log');
    // The handler writes one line per call: CONSUL_INDEX, a tab, the JSON it read on stdin.
    const script = `printf '%s\\t' "$CONSUL_INDEX" >> ${log}; cat >> ${log}`;
    const child: ChildProcess = spawn(process.execPath, [bin, 'watch', '-type=key', '-key=app/config', script], {
      env: { ...process.env, CONSUL_HTTP_ADDR: dev.agent.httpAddr, SHELL: '/bin/sh' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until('the initial call', () => calls(log).length === 1);
      assert.equal(calls(log)[0].data, null);

      await dev.client.kv.put('app/config', 'one');
      await until('the first change', () => calls(log).length === 2);
      const first = calls(log)[1];
      assert.equal(first.data.Key, 'app/config');
      assert.equal(Buffer.from(first.data.Value, 'base64').toString(), 'one');
      assert.equal(first.index, first.data.ModifyIndex);
      assert.deepEqual(Object.keys(first.data), ['Key', 'CreateIndex', 'ModifyIndex', 'LockIndex', 'Flags', 'Value', 'Session']);

      for (let i = 0; i < 5; i++) await dev.client.kv.put(`app/other-${i}`, String(i));
      await dev.client.kv.put('app/configuration', 'a sibling with the key as prefix');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(calls(log).length, 2, 'writes to other keys must not fire the handler');

      await dev.client.kv.put('app/config', 'two');
      await until('the second change', () => calls(log).length === 3);
      assert.equal(Buffer.from(calls(log)[2].data.Value, 'base64').toString(), 'two');

      await dev.client.kv.delete('app/config');
      await until('the delete', () => calls(log).length === 4);
      assert.equal(calls(log)[3].data, null);
      assert.ok(calls(log)[3].index > calls(log)[2].index);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(stderr, '');
  });

  test('-type=event -name=deploy fires on each deploy event (only the new ones) and not for other names', async () => {
    const log = join(dir, 'events.log');
    const events = new EventApi(dev.client);
    // CONSUL_INDEX stays a decimal string: event indexes are 64-bit hashes beyond 2^53.
    const got = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(0, -1).filter(Boolean) : [])
      .map((line) => { const [index, json] = line.split('\t'); return { index, data: JSON.parse(json) }; });
    const script = `printf '%s\\t' "$CONSUL_INDEX" >> ${log}; cat >> ${log}`;
    const child: ChildProcess = spawn(process.execPath, [bin, 'watch', '-type=event', '-name=deploy', script], {
      env: { ...process.env, CONSUL_HTTP_ADDR: dev.agent.httpAddr, SHELL: '/bin/sh' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until('the initial call', () => got().length === 1);
      assert.deepEqual(got()[0].data, []);

      const first = await events.fire('deploy', 'v1');
      await until('the first deploy', () => got().length === 2);
      assert.deepEqual(got()[1].data.map((e: { ID: string }) => e.ID), [first]);
      assert.equal(Buffer.from(got()[1].data[0].Payload, 'base64').toString(), 'v1');
      assert.equal(got()[1].index, eventIdToIndex(first).toString(), 'CONSUL_INDEX is the exact 64-bit index');

      await events.fire('other', 'x');
      await events.fire('deployment', 'y');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(got().length, 2, 'events with other names must not fire the handler');

      const second = await events.fire('deploy', 'v2');
      await until('the second deploy', () => got().length === 3);
      assert.deepEqual(got()[2].data.map((e: { ID: string }) => e.ID), [second], 'only events newer than the previous index');
      assert.equal(got()[2].index, eventIdToIndex(second).toString());
      const third = await events.fire('deploy', 'v3');
      await until('the third deploy', () => got().length === 4);
      assert.deepEqual(got()[3].data.map((e: { ID: string }) => e.ID), [third]);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(stderr, '');
    const printed = await cli(['watch', '-type=event', '-name=deploy']);
    assert.equal(printed.code, 0);
    assert.deepEqual(JSON.parse(printed.out).map((e: { Name: string }) => e.Name), ['deploy', 'deploy', 'deploy']);
  });

  test('without a handler the current value is printed as indented JSON and the watch ends', async () => {
    await dev.client.kv.put('print/a', '<&>');
    await dev.client.kv.put('print/b', 'B', { flags: 18446744073709551615n });
    const r = await cli(['watch', '-type=keyprefix', '-prefix=print/']);
    assert.equal(r.code, 0);
    assert.equal(r.err, '');
    const pairs = JSON.parse(r.out);
    assert.deepEqual(pairs.map((p: { Key: string }) => p.Key), ['print/a', 'print/b']);
    assert.match(r.out, /^\[\n {4}\{\n {8}"Key": "print\/a",\n {8}"CreateIndex": \d+,/);
    assert.match(r.out, /"Flags": 18446744073709551615,/, 'uint64 flags print exactly');
    assert.equal((await cli(['watch', '-type=key', '-key=print/none'])).out, 'null\n');
    const services = await cli(['watch', '-type=services']);
    assert.deepEqual(JSON.parse(services.out), { consul: [] });
    assert.match(services.out, /^\{\n {4}"consul": \[\]\n\}\n$/);
    const checks = await cli(['watch', '-type=checks', '-state=passing']);
    assert.ok(JSON.parse(checks.out).some((c: { CheckID: string }) => c.CheckID === 'serfHealth'));
  });

  test('a failing handler stops the watch with exit 1', async () => {
    const r = await cli(['watch', '-type=nodes', 'echo handled; exit 3']);
    assert.deepEqual(r, { code: 1, out: 'handled\n', err: 'Error executing handler: exit status 3\n' });
  });

  test("Consul's parameter errors", async () => {
    const none = await cli(['watch']);
    assert.equal(none.code, 1);
    assert.match(none.err, /^Watch type must be specified\n\nUsage: proconsul watch \[options\] \[child\.\.\.\]/);
    assert.deepEqual(await cli(['watch', '-type=bogus']), { code: 1, out: '', err: 'Unsupported watch type: bogus\n' });
    assert.deepEqual(await cli(['watch', '-type=key']), { code: 1, out: '', err: 'Must specify a single key to watch\n' });
    assert.deepEqual(await cli(['watch', '-type=keyprefix']), { code: 1, out: '', err: 'Must specify a single prefix to watch\n' });
    assert.deepEqual(await cli(['watch', '-type=service']), { code: 1, out: '', err: 'Must specify a single service to watch\n' });
    assert.deepEqual(await cli(['watch', '-type=checks', '-service=a', '-state=any']), { code: 1, out: '', err: 'Cannot specify service and state\n' });
    assert.deepEqual(await cli(['watch', '-type=nodes', '-key=x']), { code: 1, out: '', err: 'Invalid parameters: [key]\n' });
    assert.deepEqual(await cli(['watch', '-type=connect_roots']), { code: 1, out: '', err: 'Type connect_roots is not supported in the CLI tool\n' });
    assert.deepEqual(await cli(['watch', '-type=service', '-service=web', '-passingonly=maybe']), {
      code: 1, out: '', err: 'Failed to parse passingonly flag: strconv.ParseBool: parsing "maybe": invalid syntax\n',
    });
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: '127.0.0.1:1' } });
    assert.equal(await runCli(['watch', '-type=nodes'], io), 1);
    assert.match(io.err, /^Error querying Consul agent: Get "http:\/\/127\.0\.0\.1:1\/v1\/status\/leader": dial tcp 127\.0\.0\.1:1: connect: connection refused\n$/);
  });
});
