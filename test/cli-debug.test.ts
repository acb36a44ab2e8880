// `proconsul debug` against a dev agent: Consul's bundle layout (agent, host, members, metrics,
// logs, index, listpeers) archived as <output>.tar.gz, -archive=false, an interrupted capture
// still archived, pprof dropped with a warning, and Consul's validation texts.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { debugUi, runDebug, type DebugPlan } from '../src/cli/debug.ts';
import { goTimeString } from '../src/cli/debug-capture.ts';
import { memoryIO } from '../src/cli/io.ts';
import { cliAgent } from './support/cli.ts';

/** Names of every entry (folders end in `/`) and the regular files' contents of a tar.gz. */
function untar(file: string): { names: string[]; files: Map<string, string> } {
  const buf = gunzipSync(fs.readFileSync(file));
  const names: string[] = [];
  const files = new Map<string, string>();
  for (let off = 0; off + 512 <= buf.length;) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    const isDir = String.fromCharCode(h[156]) === '5';
    names.push(isDir ? `${name}/` : name);
    if (!isDir) files.set(name, buf.subarray(off + 512, off + 512 + size).toString('utf8'));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return { names, files };
}

test('Go time String of a UTC instant', () => {
  assert.equal(goTimeString(new Date('2026-11-26T07:15:00.120Z')), '2026-11-26 07:15:00.12 +0000 UTC');
  assert.equal(goTimeString(new Date('2026-11-26T07:15:00.000Z')), '2026-11-26 07:15:00 +0000 UTC');
});

describe('debug against a dev agent', () => {
  const dev = cliAgent();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-debug-'));
  const plan = (name: string, capture: string[] = []): DebugPlan => ({ output: path.join(tmp, name), capture, intervalMs: 200, durationMs: 300, validateTiming: false });

  test("a full capture: Consul's bundle layout in <output>.tar.gz, the folder removed, pprof dropped with a warning", async () => {
    const io = memoryIO();
    const code = await runDebug(dev.client, plan('bundle'), true, debugUi(io), new AbortController().signal);
    assert.equal(code, 0, io.err);
    assert.equal(io.err, '[WARN] Unable to capture pprof. The target agent does not serve pprof profiles (Proconsul runs on Node.js, not Go).\n');
    const lines = io.out.split('\n');
    assert.deepEqual(lines.slice(0, 6), [
      '==> Starting debugger and capturing static information...', "     Agent Version: '1.16.1'", "          Interval: '200ms'",
      "          Duration: '300ms'", `            Output: '${path.join(tmp, 'bundle')}.tar.gz'`, "           Capture: 'metrics, logs, host, agent, members'",
    ]);
    assert.match(lines[6], /^==> Beginning capture interval \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC \(0\)$/);
    assert.match(lines[7], /^==> Capture successful .* \(0\)$/);
    assert.equal(lines.at(-2), `    Saved debug archive: ${path.join(tmp, 'bundle')}.tar.gz`);
    assert.equal(fs.existsSync(path.join(tmp, 'bundle')), false, 'the folder is removed once archived');

    const { names, files } = untar(path.join(tmp, 'bundle.tar.gz'));
    assert.deepEqual(names, ['bundle/', ...['agent.json', 'consul.log', 'host.json', 'index.json', 'listpeers.json', 'members.json', 'metrics.json'].map((f) => `bundle/${f}`)]);
    assert.deepEqual(JSON.parse(files.get('bundle/index.json')!), {
      Version: 1, AgentVersion: '1.16.1', Interval: '200ms', Duration: '2.3s', Targets: ['metrics', 'logs', 'host', 'agent', 'members'],
    });
    assert.match(files.get('bundle/index.json')!, /^{\n\t"Version": 1,/, 'tab-indented as Go\'s MarshalIndent');
    assert.equal(JSON.parse(files.get('bundle/agent.json')!).Config.NodeName, 'test-node');
    assert.equal(JSON.parse(files.get('bundle/members.json')!)[0].Name, 'test-node.dc1', 'members of the WAN pool, as Consul asks');
    assert.ok(JSON.parse(files.get('bundle/host.json')!).Host.hostname);
    assert.match(files.get('bundle/listpeers.json')!, /^Node\s+ID\s+Address\s+State\s+Voter\s+RaftProtocol\s+Commit Index\s+Trails Leader By\ntest-node\s+\S+\s+\S+\s+leader\s+true\s+3\s+\d+\s+-$/);
  });

  test('-archive=false leaves the folder; -capture limits what is recorded', async () => {
    const io = memoryIO();
    assert.equal(await runDebug(dev.client, plan('folder', ['agent', 'host']), false, debugUi(io), new AbortController().signal), 0, io.err);
    assert.equal(io.err, '');
    assert.deepEqual(fs.readdirSync(path.join(tmp, 'folder')).sort(), ['agent.json', 'host.json', 'index.json', 'listpeers.json']);
    assert.ok(io.out.endsWith(`    Saved debug archive: ${path.join(tmp, 'folder')}\n`));
    assert.doesNotMatch(io.out, /Beginning capture interval/, 'no dynamic targets, no interval loop');
  });

  test('an interrupted capture says so and is still archived', async () => {
    const io = memoryIO();
    const stop = new AbortController();
    const p = { ...plan('interrupted', ['logs']), durationMs: 60_000 };
    const running = runDebug(dev.client, p, true, debugUi(io), stop.signal);
    while (!io.out.includes('Beginning capture interval')) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    assert.equal(await running, 0);
    assert.equal(io.err, '==> Error encountered during collection: stopping collection due to shutdown signal\n');
    assert.ok(untar(path.join(tmp, 'interrupted.tar.gz')).names.includes('interrupted/consul.log'));
  });

  test("Consul's validation texts", async () => {
    const out = (r: { code: number; out: string; err: string }) => [r.code, r.out, r.err];
    assert.deepEqual(out(await dev.cli(['debug', '-duration=5s'])), [1, '', '==> Capture validation failed: duration must be longer than 10s\n']);
    assert.deepEqual(out(await dev.cli(['debug', '-interval=1s'])), [1, '', '==> Capture validation failed: interval must be longer than 10s\n']);
    assert.deepEqual(out(await dev.cli(['debug', '-interval=30s', '-duration=20s'])), [1, '', '==> Capture validation failed: duration (20s) must be longer than interval (30s)\n']);
    assert.deepEqual(out(await dev.cli(['debug', 'extra'])), [1, '', '==> debug: Too many arguments provided, expected 0\n']);
    assert.deepEqual(out(await dev.cli(['debug', '-capture=agent', '-capture=nope', `-output=${path.join(tmp, 'never')}`])), [1, '', '==> Capture validation failed: target not found: nope\n']);
    fs.mkdirSync(path.join(tmp, 'taken'));
    assert.deepEqual(out(await dev.cli(['debug', `-output=${path.join(tmp, 'taken')}`, '-capture=agent'])), [1, '', `==> Capture validation failed: output directory already exists: ${path.join(tmp, 'taken')}\n`]);
    const down = await dev.cli(['debug', '-http-addr=127.0.0.1:1', `-output=${path.join(tmp, 'never')}`]);
    assert.equal(down.code, 1);
    assert.match(down.err, /^==> Capture validation failed: error querying target agent: .+\. verify connectivity and agent address\n$/);
    assert.equal(fs.existsSync(path.join(tmp, 'never')), false);
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
});
