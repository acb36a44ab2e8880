// `proconsul info` against a dev agent: Consul's sorted sections and `\tkey = value` lines from
// agent/self Stats, honest runtime figures, and Consul's error text when no agent answers.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { infoLines } from '../src/cli/info.ts';
import { cliAgent, runCliCaptured } from './support/cli.ts';

test('sections and keys are sorted; a section that is not a map stops with Consul\'s text', () => {
  assert.deepEqual(infoLines({ b: { z: '1', a: '2' }, a: { k: 'v' } }), { lines: ['a:', '\tk = v', 'b:', '\ta = 2', '\tz = 1'] });
  assert.deepEqual(infoLines({ a: 'flat', b: { k: 'v' } }), { lines: ['a:'], error: 'Got invalid subkey in stats: map[]' });
});

describe('info against a dev agent', () => {
  const dev = cliAgent();

  test("Consul's sections, each with sorted `\\tkey = value` lines", async () => {
    const r = await dev.cli(['info']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const sections = r.out.split('\n').filter((l) => l && !l.startsWith('\t'));
    assert.deepEqual(sections, ['agent:', 'build:', 'consul:', 'raft:', 'runtime:', 'serf_lan:', 'serf_wan:']);
    const block = (name: string) => {
      const lines = r.out.split('\n');
      const from = lines.indexOf(`${name}:`) + 1;
      const body: string[] = [];
      for (let i = from; i < lines.length && lines[i].startsWith('\t'); i++) body.push(lines[i]);
      return body;
    };
    for (const s of sections) {
      const keys = block(s.slice(0, -1)).map((l) => l.slice(1).split(' = ')[0]);
      assert.deepEqual(keys, [...keys].sort(), `${s} keys sorted`);
    }
    assert.deepEqual(block('consul').filter((l) => /\t(server|leader|known_datacenters|bootstrap) = /.test(l)),
      ['\tbootstrap = true', '\tknown_datacenters = 1', '\tleader = true', '\tserver = true']);
    const runtime = block('runtime');
    // goroutines counts the agent's live event-loop resources; its listeners alone make it positive.
    assert.match(runtime[2] ?? '', /^\tgoroutines = [1-9]\d*$/);
    assert.deepEqual(runtime.filter((_, i) => i !== 2), [
      '\tarch = ' + os.arch(), `\tcpu_count = ${os.cpus().length}`, `\tmax_procs = ${os.availableParallelism()}`,
      `\tos = ${os.platform()}`, `\tversion = ${process.version}`,
    ]);
    assert.ok(block('raft').includes('\tstate = Leader'));
    assert.ok(block('serf_lan').includes('\tencrypted = false'));
  });

  test('an agent that does not answer: "Error querying agent", exit 1', async () => {
    const r = await runCliCaptured(['info', '-http-addr=127.0.0.1:1'], {});
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /^Error querying agent: .+\n$/);
  });
});
