import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KeyValue, TxnRequest } from '../store.ts';
import { appliedAfter, appliedAt, settleable, settledResponse, writtenKeys } from './settle.ts';

const put = (key: string, value: string, extra: { lease?: number; prevKv?: boolean } = {}) => ({ type: 'put' as const, key, value: Buffer.from(value), ...extra });
const kv = (key: string, value: string, modRevision: number, lease = 0): KeyValue =>
  ({ key, value: Buffer.from(value), createRevision: modRevision, modRevision, version: 1, lease });
/** A KV set as the endpoints plan it: the key pinned to the record they read. */
const pinned = (key: string, modRevision: number, ...rest: TxnRequest['success']): TxnRequest =>
  ({ compares: [{ key, target: 'modRevision', op: '=', value: modRevision }], success: [put(key, 'new'), ...rest] });

test('settleable: a txn whose compares fail once it is applied, writing without reads', () => {
  assert.equal(settleable(pinned('k', 7)), true, 'a pinned mod revision of a key it writes');
  assert.equal(settleable({ compares: [{ key: 'k', target: 'createRevision', op: '=', value: 0 }], success: [put('k', 'v')] }), true, 'a key it creates');
  assert.equal(settleable({ compares: [{ key: 'k', target: 'version', op: '=', value: 0 }], success: [put('k', 'v')] }), true);
  assert.equal(settleable(pinned('k', 7, { type: 'delete', key: 'old' })), true);

  assert.equal(settleable({ success: [put('k', 'v')] }), false, 'no compares: a resend could apply it twice');
  assert.equal(settleable(pinned('k', 0)), false, 'mod revision 0 is an absent key, which a delete brings back');
  assert.equal(settleable({ compares: [{ key: 'other', target: 'modRevision', op: '=', value: 7 }], success: [put('k', 'v')] }), false, 'a compare on a key it does not write');
  assert.equal(settleable({ compares: [{ key: 'k', target: 'modRevision', op: '<', value: 7 }], success: [put('k', 'v')] }), false);
  assert.equal(settleable({ compares: [{ key: 'k', target: 'createRevision', op: '=', value: 3 }], success: [put('k', 'v')] }), false, 'a put keeps the create revision');
  assert.equal(settleable({ compares: [{ key: 'k', target: 'createRevision', op: '=', value: 3 }], success: [put('x', 'v'), { type: 'delete', key: 'k' }] }), true, 'a deleted key never gets its create revision back');
  assert.equal(settleable(pinned('k', 7, { type: 'get', key: 'k' })), false, 'reads cannot be answered afterwards');
  assert.equal(settleable({ ...pinned('k', 7), success: [put('k', 'v', { prevKv: true })] }), false, 'nor previous records');
  assert.equal(settleable({ ...pinned('k', 7), failure: [put('f', 'v')] }), false, 'a failure branch that writes may have run');
  assert.equal(settleable({ compares: [{ key: 'k', target: 'modRevision', op: '=', value: 7 }], success: [{ type: 'delete', key: 'k' }] }), false, 'nothing put: nothing shows it was applied');
});

test('appliedAfter: the newest revision seen or named by a compare', () => {
  assert.equal(appliedAfter(pinned('k', 7), 5), 7);
  assert.equal(appliedAfter(pinned('k', 7), 9), 9);
  assert.equal(appliedAfter({ compares: [{ key: 'k', target: 'version', op: '=', value: 40 }], success: [] }, 9), 9, 'versions are not revisions');
});

test('appliedAt: every put key holds its value and lease at one revision above the floor, every deleted key is gone', () => {
  const req: TxnRequest = { compares: [{ key: 'a', target: 'modRevision', op: '=', value: 4 }], success: [put('a', 'x'), { type: 'delete', key: 'd' }, put('b', 'y', { lease: 9 })] };
  assert.deepEqual(writtenKeys(req), ['a', 'd', 'b']);
  assert.equal(appliedAt(req, [kv('a', 'x', 12), null, kv('b', 'y', 12, 9)], 10), 12);
  assert.equal(appliedAt(req, [kv('a', 'x', 12), null, kv('b', 'y', 12, 9)], 12), null, 'not above what was seen before sending');
  assert.equal(appliedAt(req, [kv('a', 'x', 12), null, kv('b', 'y', 13, 9)], 10), null, 'written at two revisions');
  assert.equal(appliedAt(req, [kv('a', 'z', 12), null, kv('b', 'y', 12, 9)], 10), null, 'another value');
  assert.equal(appliedAt(req, [kv('a', 'x', 12), null, kv('b', 'y', 12, 0)], 10), null, 'another lease');
  assert.equal(appliedAt(req, [kv('a', 'x', 12), kv('d', 'still', 3), kv('b', 'y', 12, 9)], 10), null, 'a key it deletes is still there');
  assert.equal(appliedAt(req, [null, null, kv('b', 'y', 12, 9)], 10), null, 'a key it puts is missing');
});

test('settledResponse: succeeded at the revision it was found applied at', () => {
  assert.deepEqual(settledResponse(pinned('k', 7, { type: 'delete', key: 'd' }), 12), {
    succeeded: true, revision: 12, results: [{ type: 'put', prev: null }, { type: 'delete', deleted: [] }],
  });
});
