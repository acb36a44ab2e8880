// `proconsul snapshot decode` against a snapshot saved from a real dev agent: Consul's JSON lines
// ({"Data":…,"Type":…}, header first), KV entries as DirEntry with exact uint64 flags, services
// with their node, a raw state.bin read with its meta.json, and Consul's error texts.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readArchive } from '../src/snapshot/index.ts';
import { cliAgent } from './support/cli.ts';

describe('snapshot decode', () => {
  const h = cliAgent();
  const dir = fs.mkdtempSync(join(tmpdir(), 'proconsul-snap-decode-'));
  const file = join(dir, 'backup.snap');

  before(async () => {
    const base = `http://${h.agent.httpAddr}`;
    await fetch(`${base}/v1/kv/app/config?flags=18446744073709551615`, { method: 'PUT', body: 'v=1' });
    await fetch(`${base}/v1/kv/app/empty`, { method: 'PUT' });
    await fetch(`${base}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'web', Port: 8080 }) });
    const saved = await h.cli(['snapshot', 'save', file]);
    assert.equal(saved.code, 0, saved.err);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('prints the header, then one {"Data","Type"} line per record with Consul\'s type names', async () => {
    const r = await h.cli(['snapshot', 'decode', file]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const lines = r.out.split('\n');
    assert.equal(lines.pop(), '');
    for (const l of lines) assert.match(l, /^\{"Data":.*,"Type":"[A-Za-z]+"\}$/);
    const records = lines.map((l) => JSON.parse(l) as { Data: Record<string, unknown>; Type: string });
    const { meta } = await readArchive(fs.readFileSync(file));
    assert.deepEqual(records[0], { Data: meta, Type: 'SnapshotHeader' });
    assert.ok(lines.includes('{"Data":{"LockIndex":0,"Key":"app/config","Flags":18446744073709551615,"Value":"dj0x"},"Type":"KVS"}'), r.out);
    assert.ok(lines.includes('{"Data":{"LockIndex":0,"Key":"app/empty","Flags":0,"Value":null},"Type":"KVS"}'), r.out);
    const web = records.find((x) => x.Type === 'Register' && (x.Data.Service as { Service?: string } | undefined)?.Service === 'web');
    assert.equal(web?.Data.Node, 'test-node');
    assert.equal((web?.Data.Service as { Port: number }).Port, 8080);
    const node = records.find((x) => x.Type === 'Register' && x.Data.Node === 'test-node' && x.Data.Address === '127.0.0.1');
    assert.ok(node, r.out);
    assert.ok(records.some((x) => x.Type === 'ConnectCA'), 'the CA roots are records too');
    assert.ok(records.every((x) => x.Type !== 'SnapshotHeader' || x === records[0]));
  });

  test('a raw state.bin is decoded with the meta.json beside it', async () => {
    const { meta, state } = await readArchive(fs.readFileSync(file));
    const raw = join(dir, 'raw');
    fs.mkdirSync(raw);
    fs.writeFileSync(join(raw, 'state.bin'), state);
    fs.writeFileSync(join(raw, 'meta.json'), JSON.stringify(meta));
    const fromRaw = await h.cli(['snapshot', 'decode', join(raw, 'state.bin')]);
    const fromArchive = await h.cli(['snapshot', 'decode', file]);
    assert.equal(fromRaw.code, 0, fromRaw.err);
    assert.equal(fromRaw.out, fromArchive.out);
    fs.rmSync(join(raw, 'meta.json'));
    const noMeta = await h.cli(['snapshot', 'decode', join(raw, 'state.bin')]);
    assert.equal(noMeta.code, 1);
    assert.equal(noMeta.err, `Error reading meta.json from internal snapshot dir: open ${join(raw, 'meta.json')}: no such file or directory\n`);
  });

  test("Consul's errors: missing and extra arguments, a missing file, a file that is not a snapshot", async () => {
    assert.deepEqual(await h.cli(['snapshot', 'decode']), { code: 1, out: '', err: 'Missing FILE argument\n' });
    assert.deepEqual(await h.cli(['snapshot', 'decode', 'a', 'b']), { code: 1, out: '', err: 'Too many arguments (expected 1, got 2)\n' });
    const missing = join(dir, 'nope.snap');
    assert.deepEqual(await h.cli(['snapshot', 'decode', missing]), { code: 1, out: '', err: `Error opening snapshot file: open ${missing}: no such file or directory\n` });
    const junk = join(dir, 'junk.snap');
    fs.writeFileSync(junk, 'not a snapshot');
    const bad = await h.cli(['snapshot', 'decode', junk]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^Error reading snapshot: /);
  });
});
