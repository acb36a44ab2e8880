// `proconsul exec` end to end against dev agents: the agent's remote exec (_rexec event, KV job,
// ack/out/exit keys under the session) and the CLI's Consul output and exit codes; an agent with
// remote exec disabled (the default) acknowledges nothing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventApi } from '../src/api/event.ts';
import { targeted } from '../src/cli/exec.ts';
import { cliAgent } from './support/cli.ts';

test("TargetedUI lines: arrow for news, spaces for output, trailing space trimmed", () => {
  assert.equal(targeted('n1', 'a\nb\n', false), '    n1: a\n    n1: b\n    n1:', 'Consul prints the empty line after the last newline, trimmed');
  assert.equal(targeted('n1', 'finished with exit code 0', true), '==> n1: finished with exit code 0');
});

describe('exec against an agent with disable_remote_exec = false', () => {
  const dev = cliAgent({ config: { raw: { disable_remote_exec: false } } });

  test('a shell command: its output per node, the exit code, the summary; the KV tree and session are gone after', async () => {
    const r = await dev.cli(['exec', '-wait=2s', 'echo hello; echo world']);
    assert.equal(r.err, '');
    assert.equal(r.out, '    test-node: hello\n    test-node: world\n    test-node:\n==> test-node: finished with exit code 0\n1 / 1 node(s) completed / acknowledged\n');
    assert.equal(r.code, 0);
    assert.deepEqual((await dev.client.kv.keys('_rexec/')).data, []);
    assert.deepEqual((await dev.client.session.list()).data, []);
  });

  test('a failing command exits 2; -verbose shows the session, the event and the ack', async () => {
    const r = await dev.cli(['exec', '-verbose', '-wait=1s', 'exit 3']);
    assert.equal(r.code, 2);
    const lines = r.out.trim().split('\n');
    assert.match(lines[0], /^Created remote execution session: [0-9a-f-]{36}$/);
    assert.equal(lines[1], 'Uploaded remote execution spec');
    assert.match(lines[2], /^Fired remote execution event: [0-9a-f-]{36}$/);
    assert.ok(lines.includes('==> test-node: acknowledged'));
    assert.ok(lines.includes('==> test-node: finished with exit code 3'));
    assert.ok(lines.includes('1 / 1 node(s) completed / acknowledged'));
    assert.match(lines.at(-1)!, /^Completed in \d+\.\d\d seconds$/);
  });

  test('a script on stdin and -shell=false arguments', async () => {
    const s = await dev.cli(['exec', '-wait=1s', '-'], '#!/bin/sh\necho "from script $((40 + 2))"\n');
    assert.equal(s.out, '    test-node: from script 42\n    test-node:\n==> test-node: finished with exit code 0\n1 / 1 node(s) completed / acknowledged\n');
    const a = await dev.cli(['exec', '-wait=1s', '-shell=false', 'printf', '%s-%s', 'a b', 'c']);
    assert.equal(a.out, '    test-node: a b-c\n==> test-node: finished with exit code 0\n1 / 1 node(s) completed / acknowledged\n');
  });

  test('a quiet command keeps the run alive with heartbeats (every -wait) until it finishes', async () => {
    // -wait=1s: the agent beats every second and the CLI gives a working node two (margin for a busy CI).
    const r = await dev.cli(['exec', '-verbose', '-wait=1s', 'sleep 2.5; echo late']);
    assert.equal(r.code, 0, r.out + r.err);
    assert.ok(r.out.includes('==> test-node: heartbeat received\n'), r.out);
    assert.ok(r.out.includes('    test-node: late\n    test-node:\n==> test-node: finished with exit code 0\n1 / 1 node(s) completed / acknowledged\n'), r.out);
  });

  test('a node filter that matches nobody: nothing acknowledged, exit 0', async () => {
    const r = await dev.cli(['exec', '-wait=500ms', '-node=^nobody$', 'echo hi']);
    assert.deepEqual([r.code, r.out, r.err], [0, '0 / 0 node(s) completed / acknowledged\n', '']);
  });

  test("Consul's argument errors", async () => {
    const none = await dev.cli(['exec']);
    assert.equal(none.code, 1);
    assert.match(none.err, /^Must specify a command to execute\n\nUsage: proconsul exec \[options\] \[-\|command\.\.\.\]/);
    assert.deepEqual(await dev.cli(['exec', '-tag=x', 'uptime']), { code: 1, out: '', err: 'Cannot provide tag filter without service filter.\n' });
    assert.deepEqual(await dev.cli(['exec', '-shell=false', '-']), { code: 1, out: '', err: 'Cannot configure -shell=false when reading from stdin\n' });
    const re = await dev.cli(['exec', '-node=(', 'uptime']);
    assert.equal(re.code, 1);
    assert.match(re.err, /^Failed to compile node filter regexp: /);
  });
});

describe('exec against an agent with remote exec disabled (the default)', () => {
  const dev = cliAgent();

  test('the event is ignored: nothing acknowledged, nothing run', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-disabled-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const marker = path.join(dir, 'ran');
    const r = await dev.cli(['exec', '-wait=2s', `touch ${marker}`]);
    assert.deepEqual([r.code, r.out, r.err], [0, '0 / 0 node(s) completed / acknowledged\n', '']);
    assert.equal(fs.existsSync(marker), false, 'the command must not run');
    assert.deepEqual(await new EventApi(dev.client).list('_rexec'), [], 'internal events are not kept');
  });
});
