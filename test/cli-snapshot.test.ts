// `proconsul snapshot save|restore|inspect` end to end against real dev agents over HTTP:
// Consul's output texts and exit codes, the inspect table, and a round trip between agents.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

describe('snapshot commands', () => {
  let a: DevAgent;
  let b: DevAgent;
  const dir = fs.mkdtempSync(join(tmpdir(), 'proconsul-cli-snap-'));

  before(async () => {
    a = await startDevAgent({ config: { nodeName: 'a' } });
    b = await startDevAgent({ config: { nodeName: 'b' } });
    for (const [k, v] of [['app/x/one', '1'], ['app/y/two', '22'], ['other', '333']]) {
      await fetch(`http://${a.httpAddr}/v1/kv/${k}`, { method: 'PUT', body: v });
    }
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function cli(agent: DevAgent, argv: string[]) {
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: agent.httpAddr } });
    const code = await runCli(argv, io);
    return { code, out: io.out, err: io.err };
  }

  test('save writes a verified file; inspect prints Consul\'s table; restore loads it elsewhere', async () => {
    const file = join(dir, 'backup.snap');
    const saved = await cli(a, ['snapshot', 'save', file]);
    assert.equal(saved.code, 0, saved.err);
    const index = Number(/^Saved and verified snapshot to index (\d+)\n$/.exec(saved.out)?.[1]);
    assert.ok(index > 0);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.ok(!fs.existsSync(`${file}.unverified`));

    const ins = await cli(a, ['snapshot', 'inspect', file]);
    assert.equal(ins.code, 0, ins.err);
    const lines = ins.out.split('\n');
    assert.match(lines[0], new RegExp(`^ ID {11}\\d+-${index}-\\d+$`));
    assert.match(lines[1], /^ Size {9}\d+$/);
    assert.equal(lines[2], ` Index        ${index}`);
    assert.match(lines[3], /^ Term {9}\d+$/);
    assert.equal(lines[4], ' Version      1');
    assert.equal(lines[5], '');
    assert.match(lines[6], /^ Type +Count +Size +$/);
    assert.match(ins.out, /\n KVS +3 +\d+B +\n/);
    assert.match(ins.out, /\n Total +\d+(\.\d)?K?B +\n$/);

    const kv = await cli(a, ['snapshot', 'inspect', '-kvdetails', '-kvdepth=1', file]);
    assert.match(kv.out, /\n Key Name +Count +Size +\n/);
    assert.match(kv.out, /\n app +2 +\d+B +\n/);
    const json = JSON.parse((await cli(a, ['snapshot', 'inspect', '-format=json', file])).out);
    assert.equal(json.Meta.Index, index);
    assert.equal(json.Stats.find((s: { Name: string }) => s.Name === 'KVS').Count, 3);
    assert.equal(json.StatsKV, null);

    assert.deepEqual(await cli(b, ['snapshot', 'restore', file]), { code: 0, out: 'Restored snapshot\n', err: '' });
    assert.equal(await (await fetch(`http://${b.httpAddr}/v1/kv/other?raw`)).text(), '333');
  });

  test('argument and file errors use Consul\'s texts', async () => {
    assert.deepEqual(await cli(a, ['snapshot', 'save']), { code: 1, out: '', err: 'Missing FILE argument\n' });
    assert.deepEqual(await cli(a, ['snapshot', 'inspect', 'x', 'y']), { code: 1, out: '', err: 'Too many arguments (expected 1, got 2)\n' });
    const missing = join(dir, 'missing.snap');
    assert.deepEqual(await cli(a, ['snapshot', 'restore', missing]), { code: 1, out: '', err: `Error opening snapshot file: open ${missing}: no such file or directory\n` });
    const junk = join(dir, 'junk.snap');
    fs.writeFileSync(junk, 'junk');
    const ins = await cli(a, ['snapshot', 'inspect', junk]);
    assert.equal(ins.code, 1);
    assert.match(ins.err, /^Error reading snapshot: failed to decompress snapshot: /);
    const res = await cli(b, ['snapshot', 'restore', junk]);
    assert.equal(res.code, 1);
    assert.match(res.err, /^Error restoring snapshot: Unexpected response code: 500 \(failed to read snapshot: failed to decompress snapshot: /);
    const parent = await cli(a, ['snapshot']);
    assert.equal(parent.code, 1);
    assert.match(parent.err, /Subcommands:\n {4}agent +Periodically saves snapshots of Consul server state\n {4}decode +Decodes the binary\n {4}inspect +Displays information about a Consul snapshot file\n/);
  });
});
