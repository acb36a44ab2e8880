import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeWatchResponse, encodeWatchCreate } from './watch-codec.ts';

// A minimal protobuf writer for building etcd messages by field number (rpc.proto, kv.proto).
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  out.push(n);
  return out;
};
const num = (field: number, n: number) => [...varint(field << 3), ...varint(n)];
const len = (field: number, bytes: number[] | Buffer) => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
const kv = (key: string, value: string, create: number, mod: number, version: number, lease = 0) => [
  ...len(1, Buffer.from(key)), ...num(2, create), ...num(3, mod), ...num(4, version), ...len(5, Buffer.from(value)), ...(lease ? num(6, lease) : []),
];

test('decodes events with revisions as numbers and skips header, watch id, prev_kv and unknown fields', () => {
  const big = 2 ** 40 + 7;
  const header = len(1, [...num(1, 2 ** 52), ...num(3, big), ...num(4, 9)]);
  const put = len(11, [...len(2, kv('/p/g1/kv/a', 'v1', big - 1, big, 3, 2 ** 48)), ...len(3, kv('/p/g1/kv/a', 'old', 1, 2, 2))]);
  const del = len(11, [...num(1, 1), ...len(2, [...len(1, Buffer.from('/p/g1/kv/b')), ...num(3, big)])]);
  const unknownFixed64 = [...varint((15 << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8];
  const buf = Buffer.from([...header, ...num(2, 5), ...num(3, 1), ...unknownFixed64, ...put, ...del]);
  const res = decodeWatchResponse(buf);
  assert.equal(res.created, true);
  assert.equal(res.canceled, false);
  assert.equal(res.compactRevision, 0);
  assert.equal(res.events.length, 2);
  const [p, d] = res.events;
  assert.deepEqual({ ...p, key: p.key.toString(), value: p.value.toString() },
    { type: 'Put', key: '/p/g1/kv/a', value: 'v1', createRevision: big - 1, modRevision: big, version: 3, lease: 2 ** 48 });
  assert.deepEqual({ ...d, key: d.key.toString(), value: d.value.length },
    { type: 'Delete', key: '/p/g1/kv/b', value: 0, createRevision: 0, modRevision: big, version: 0, lease: 0 });
  // The value is a copy: it outlives (and does not pin) the response buffer.
  buf.fill(0);
  assert.equal(p.value.toString(), 'v1');
});

test('decodes compaction and cancellation', () => {
  const res = decodeWatchResponse(Buffer.from([...num(4, 1), ...num(5, 1234), ...len(6, Buffer.from('mvcc: required revision has been compacted'))]));
  assert.equal(res.canceled, true);
  assert.equal(res.compactRevision, 1234);
  assert.equal(res.cancelReason, 'mvcc: required revision has been compacted');
  assert.throws(() => decodeWatchResponse(Buffer.from([...varint((11 << 3) | 2), 10, 1])), /truncated/);
});

test('encodes the create request as WatchRequest{create_request{key, range_end, start_revision}}', () => {
  const key = Buffer.from('/p/g');
  const end = Buffer.from('/p/h');
  assert.deepEqual([...encodeWatchCreate({ key, rangeEnd: end, startRevision: 300 })],
    len(1, [...len(1, key), ...len(2, end), ...num(3, 300)]));
  assert.deepEqual([...encodeWatchCreate({ key, rangeEnd: end, startRevision: 0 })], len(1, [...len(1, key), ...len(2, end)]));
});
