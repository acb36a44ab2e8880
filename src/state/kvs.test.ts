// The `kv/<key>` record codec: the bytes encodeKV writes (a JSON header line, then the value) and
// decodeKV's round trip, uint64 flags beyond 2^53 included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKV, encodeKV, type KVRecord } from './kvs.ts';

const records: [string, KVRecord][] = [
  ['a plain record', { Flags: 0n, LockIndex: 0, Session: '', Value: Buffer.from('hello') }],
  ['no value', { Flags: 42n, LockIndex: 1, Session: '', Value: null }],
  ['a plain record without a value', { Flags: 0n, LockIndex: 0, Session: '', Value: null }],
  ['only LockIndex set', { Flags: 0n, LockIndex: 1, Session: '', Value: Buffer.from('v') }],
  ['flags 2^64 - 1 and a session', { Flags: (1n << 64n) - 1n, LockIndex: 7, Session: 'adf4238a-882b-9ddc-4a9d-5b6758e4159e', Value: Buffer.from([0, 10, 255]) }],
  ['flags 2^53 + 1', { Flags: 9007199254740993n, LockIndex: 0, Session: '', Value: Buffer.from('x') }],
  ['a session needing escapes', { Flags: 3n, LockIndex: 2, Session: 'a"b\\c\n\u2028ключ', Value: Buffer.alloc(300, 7) }],
];

for (const [name, rec] of records) {
  test(`encodeKV writes the JSON header line and the value: ${name}`, () => {
    const head = JSON.stringify({ Flags: JSON.rawJSON(rec.Flags.toString()), LockIndex: rec.LockIndex, Session: rec.Session }) + '\n';
    assert.deepEqual(Buffer.from(encodeKV(rec)), Buffer.concat([Buffer.from(head), rec.Value ?? Buffer.alloc(0)]));
  });

  test(`decodeKV reads back what encodeKV wrote: ${name}`, () => {
    const e = decodeKV('some/key', encodeKV(rec), 5, 9);
    assert.deepEqual({ ...e, Value: e.Value && Buffer.from(e.Value) },
      { Key: 'some/key', ...rec, Value: rec.Value && Buffer.from(rec.Value), CreateIndex: 5, ModifyIndex: 9 });
  });
}
