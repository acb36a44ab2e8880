// `snapshot decode` streams: a large state.bin comes out as many bounded stdout chunks, one line per
// record in the file's order, instead of one string holding the whole output (which cannot exceed
// V8's string limit, ~512 MiB, and held the output several times over in memory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { encodeKV } from '../state/kvs.ts';
import { writeSnapshot } from '../store/snapshot.ts';
import { snapshotDecodeCommand } from './snapshot-decode.ts';

test('a large snapshot is written in bounded chunks, every record on its line', async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'proconsul-snap-decode-unit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const n = 3000;
  const value = Buffer.alloc(1500, 'x');
  const stored = encodeKV({ Flags: 0n, LockIndex: 0, Session: '', Value: value });
  const kvs = Array.from({ length: n }, (_, i) => ({ key: `kv/k${String(i).padStart(5, '0')}`, value: stored, lease: 0, createRevision: 1, modRevision: 1, version: 1 }));
  const chunks: Buffer[] = [];
  for await (const c of writeSnapshot(7, kvs as never, [{ id: 5, ttlSeconds: 10 }])) chunks.push(Buffer.from(c));
  fs.writeFileSync(path.join(dir, 'state.bin'), Buffer.concat(chunks));
  const meta = { Version: 1, ID: '1-7-0', Index: 7, Term: 1, Peers: null, Configuration: { Servers: [] }, ConfigurationIndex: 0, Size: 0, CRC: null };
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));

  const out: string[] = [];
  let err = '';
  const code = await snapshotDecodeCommand.run([path.join(dir, 'state.bin')], {
    stdout: (s) => out.push(s), stderr: (s) => { err += s; }, stdin: Readable.from([]), env: {},
  });
  assert.equal(code, 0, err);
  assert.ok(out.length > 1, `written in ${out.length} chunk(s)`);
  assert.ok(out.every((c) => c.length <= 256 * 1024 && c.endsWith('\n')), 'each chunk is bounded and ends a line');
  const lines = out.join('').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 2 + n);
  assert.equal(lines[0], `{"Data":${JSON.stringify(meta)},"Type":"SnapshotHeader"}`);
  assert.equal(lines[1], '{"Data":{"ID":5,"TTL":10},"Type":"Lease"}');
  assert.equal(lines[2 + n - 1], `{"Data":{"LockIndex":0,"Key":"k0${n - 1}","Flags":0,"Value":"${value.toString('base64')}"},"Type":"KVS"}`);
});

test('a malformed state.bin fails with Consul\'s prefix', async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'proconsul-snap-decode-unit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'state.bin'), 'not json\n');
  fs.writeFileSync(path.join(dir, 'meta.json'), '{}');
  let err = '';
  const code = await snapshotDecodeCommand.run([path.join(dir, 'state.bin')], { stdout: () => {}, stderr: (s) => { err += s; }, stdin: Readable.from([]), env: {} });
  assert.equal(code, 1);
  assert.equal(err, 'Error extracting snapshot data: invalid snapshot: malformed record\n');
});

test('a raw state.bin is read as a stream: records are printed before the file has been read to its end', { timeout: 20_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'proconsul-snap-decode-unit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'state.bin');
  execFileSync('mkfifo', [fifo]);
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ ID: 'x' }));
  const stored = encodeKV({ Flags: 0n, LockIndex: 0, Session: '', Value: Buffer.alloc(100_000, 'y') });
  const record = (i: number) => `${JSON.stringify({ t: 'kv', k: `kv/k${i}`, v: Buffer.from(stored).toString('base64'), l: 0 })}\n`;
  let first = '';
  for (let i = 0; i < 3; i++) first += record(i);

  let sawOutput!: () => void;
  const outputSeen = new Promise<void>((resolve) => { sawOutput = resolve; });
  const out: string[] = [];
  const io = { stdout: (s: string) => { out.push(s); sawOutput(); }, stderr: () => {}, stdin: Readable.from([]), env: {} };
  const running = snapshotDecodeCommand.run([fifo], io);
  // The writer sends the header and three large records, waits until the command has printed
  // something, and only then sends the rest and closes: a reader that waits for EOF never prints.
  const writer = fs.createWriteStream(fifo);
  writer.write(`${JSON.stringify({ format: 'proconsul-store-snapshot', version: 1, revision: 1 })}\n${first}`);
  await outputSeen;
  writer.end(record(3));
  assert.equal(await running, 0);
  const lines = out.join('').trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.equal(lines[0], '{"Data":{"ID":"x"},"Type":"SnapshotHeader"}');
  assert.match(lines[4], /^\{"Data":\{"LockIndex":0,"Key":"k3",/);
});
