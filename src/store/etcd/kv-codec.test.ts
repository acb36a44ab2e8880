import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Etcd3, type ITxnRequest } from 'etcd3';
import { decodeRange, decodeTxn, encodeRange, encodeTxn } from './kv-codec.ts';

// etcd3's own codec (what its client sends and reads) is the reference; its service client connects
// only when called, and nothing is called.
interface Codec { requestSerialize(v: object): Buffer; requestDeserialize(b: Buffer): object; responseSerialize(v: object): Buffer }
const client = new Etcd3({ hosts: '127.0.0.1:9' });
after(() => client.close());
const kvService = (client as unknown as { pool: { hosts: { getServiceClient(n: string): { constructor: { service: Record<string, Codec> } } }[] } })
  .pool.hosts[0].getServiceClient('KV').constructor.service;
const Txn = kvService.Txn;
const Range = kvService.Range;

const body = (frame: Buffer) => {
  assert.equal(frame[0], 0);
  assert.equal(frame.readUInt32BE(1), frame.length - 5);
  return frame.subarray(5);
};

// Bytes may differ: etcd3's codec writes proto3 defaults it was given (an enum's 0, empty bytes), which readers take as absent.
test('a txn encodes as etcd3 encodes it: compares (zero oneofs, range_end, negatives), nested txns, every op', () => {
  const key = Buffer.from('/p/g1/kv/a');
  const req: ITxnRequest = {
    compare: [
      { key: Buffer.from('/p/meta'), target: 'Mod', result: 'Equal', mod_revision: 12 },
      { key, target: 'Create', result: 'Equal', create_revision: 0 },
      { key, range_end: Buffer.from('/p/g1/kv/b'), target: 'Mod', result: 'Less', mod_revision: 2 ** 40 },
      { key, target: 'Value', result: 'NotEqual', value: Buffer.from('x') },
      { key, target: 'Version', result: 'Greater', version: -1 },
    ],
    success: [{ request_txn: {
      compare: [],
      success: [
        { request_put: { key, value: Buffer.alloc(300, 7), lease: 0, prev_kv: false } },
        { request_put: { key: Buffer.from('/p/g1/kv/l'), value: Buffer.alloc(0), lease: 2 ** 50 + 3, prev_kv: true } },
        { request_delete_range: { key, range_end: Buffer.from([0]), prev_kv: true } },
        { request_range: { key, count_only: true, limit: 5, revision: '17' } },
      ],
      failure: [{ request_range: { key } }],
    } }],
    failure: [{ request_range: { key: Buffer.from('/p/meta') } }],
  };
  const ours = body(encodeTxn(req));
  assert.deepEqual(Txn.requestDeserialize(ours), Txn.requestDeserialize(Txn.requestSerialize(req)));
});

test('a txn answer decodes with revisions as numbers, records, prev records and nested answers', () => {
  const kv = (k: string, mod: number) => ({ key: Buffer.from(k), create_revision: 3, mod_revision: mod, version: 2, value: Buffer.from('v'), lease: 2 ** 45 });
  const big = 2 ** 50 + 1;
  const bytes = Txn.responseSerialize({
    header: { cluster_id: '18446744073709551615', member_id: 7, revision: big, raft_term: 3 },
    succeeded: true,
    responses: [
      { response_txn: { header: { revision: big }, succeeded: false, responses: [
        { response_range: { header: { revision: big }, kvs: [kv('/a', 9), kv('/b', 10)], more: true, count: 2 } },
      ] } },
      { response_put: { header: { revision: big }, prev_kv: kv('/c', 11) } },
      { response_put: { header: { revision: big } } },
      { response_delete_range: { header: { revision: big }, deleted: 1, prev_kvs: [kv('/d', 12)] } },
    ],
  });
  const res = decodeTxn(bytes);
  assert.equal(res.header.revision, big);
  assert.equal(res.succeeded, true);
  const inner = res.responses[0].response_txn!;
  assert.equal(inner.succeeded, false);
  const range = inner.responses[0].response_range!;
  assert.deepEqual(range.kvs.map((e) => [e.key.toString(), e.mod_revision, e.create_revision, e.version, e.lease, e.value.toString()]),
    [['/a', 9, 3, 2, 2 ** 45, 'v'], ['/b', 10, 3, 2, 2 ** 45, 'v']]);
  assert.equal(range.count, 2);
  assert.equal(res.responses[1].response_put!.prev_kv!.key.toString(), '/c');
  assert.equal(res.responses[2].response_put!.prev_kv, null);
  assert.equal(res.responses[3].response_delete_range!.deleted, 1);
  assert.equal(res.responses[3].response_delete_range!.prev_kvs[0].mod_revision, 12);
  assert.equal(res.responses[0].response_put, undefined);
});

test('a range request and answer round-trip; an empty range has no records', () => {
  const ours = body(encodeRange({ key: Buffer.from('/m'), count_only: true }));
  assert.deepEqual([...ours], [0x0a, 2, 0x2f, 0x6d, 9 << 3, 1]);
  const res = decodeRange(Range.responseSerialize({ header: { revision: 41 }, count: 3 }));
  assert.deepEqual(res, { header: { revision: 41 }, kvs: [], count: 3 });
  assert.throws(() => decodeTxn(Buffer.from([0x1a, 10, 1])), /truncated/);
});
