import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TxnRequest } from '../store.ts';
import { resendPlan } from './settle.ts';

const put = (key: string) => ({ type: 'put' as const, key, value: Buffer.from('v') });
const del = (key: string) => ({ type: 'delete' as const, key });
const eq = (key: string, target: 'modRevision' | 'createRevision' | 'version', value: number) => ({ key, target, op: '=' as const, value });

test('resendable for good: a txn with a compare no later write can make hold again once it has been applied', () => {
  const yes: [string, TxnRequest][] = [
    ['a pinned mod revision of a key it puts (what endpoints plan)', { compares: [eq('k', 'modRevision', 7)], success: [put('k')] }],
    ['a pinned mod revision of a key it deletes', { compares: [eq('k', 'modRevision', 7)], success: [del('k')] }],
    ['a create revision of a key it deletes', { compares: [eq('k', 'createRevision', 3)], success: [del('k'), put('x')] }],
    ['a key under a prefix it deletes', { compares: [eq('dir/k', 'modRevision', 4)], success: [{ type: 'deletePrefix', prefix: 'dir/' }] }],
    ['a key it creates and one it pins', { compares: [eq('new', 'createRevision', 0), eq('k', 'modRevision', 7)], success: [put('new'), put('k')] }],
  ];
  for (const [what, req] of yes) assert.deepEqual(resendPlan(req), { checkHistory: [] }, what);
});

test('resendable once the history shows no write of the keys it creates (a delete makes "absent" hold again)', () => {
  const yes: [string, TxnRequest, string[]][] = [
    ['a key it creates', { compares: [eq('k', 'createRevision', 0)], success: [put('k')] }, ['k']],
    ['a key it creates, by version', { compares: [eq('k', 'version', 0)], success: [put('k')] }, ['k']],
    ['two keys it creates', { compares: [eq('a', 'createRevision', 0), eq('b', 'version', 0)], success: [put('a'), put('b')] }, ['a', 'b']],
    ['reads in the success branch and a failure branch that only reads', { compares: [eq('k', 'createRevision', 0)], success: [put('k'), { type: 'get', key: 'k' }], failure: [{ type: 'get', key: 'k' }] }, ['k']],
  ];
  for (const [what, req, keys] of yes) assert.deepEqual(resendPlan(req), { checkHistory: keys }, what);
});

test('not resendable: a txn a resend could apply twice', () => {
  const no: [string, TxnRequest][] = [
    ['no compares', { success: [put('k')] }],
    ['a compare on a key it does not write', { compares: [eq('other', 'modRevision', 7)], success: [put('k')] }],
    ['mod revision 0 (an absent key, which a delete brings back)', { compares: [eq('k', 'modRevision', 0)], success: [put('k')] }],
    ['an inequality', { compares: [{ key: 'k', target: 'modRevision', op: '<', value: 7 }], success: [put('k')] }],
    ['a create revision of a key it only puts (a put keeps it)', { compares: [eq('k', 'createRevision', 3)], success: [put('k')] }],
    ['a version above 0', { compares: [eq('k', 'version', 2)], success: [put('k')] }],
    ['a value compare', { compares: [{ key: 'k', target: 'value', op: '=', value: Buffer.from('v') }], success: [put('k')] }],
    ['a failure branch that writes (it may have run instead)', { compares: [eq('k', 'modRevision', 7)], success: [put('k')], failure: [put('f')] }],
  ];
  for (const [what, req] of no) assert.equal(resendPlan(req), null, what);
});
