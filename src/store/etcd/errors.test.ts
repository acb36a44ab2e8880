import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EtcdError, GRPCDeadlineExceededError, GRPCResourceExhastedError, GRPCUnavailableError, GRPCUnknownError } from 'etcd3';
import { ProconsulError } from '../../errors.ts';
import { isUnavailable, notProposed, storeError } from './errors.ts';
import { HostDownError } from './faults.ts';

// Messages as etcd 3.4 and @grpc/grpc-js give them (the code, its name, etcd's text).
const cases: [string, Error, { notProposed: boolean; unavailable: boolean }][] = [
  ['no leader (a require-leader request to a leaderless member)', new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: no leader'), { notProposed: true, unavailable: true }],
  ['a proposal the leader dropped while handing over', new GRPCUnknownError('2 UNKNOWN: raft proposal dropped'), { notProposed: true, unavailable: true }],
  ['a learner asked to serve', new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: rpc not supported for learner'), { notProposed: true, unavailable: true }],
  ['an overloaded member', new GRPCResourceExhastedError('8 RESOURCE_EXHAUSTED: etcdserver: too many requests'), { notProposed: true, unavailable: true }],
  ['a member skipped after its connection failed', new HostDownError('http://127.0.0.1:2379'), { notProposed: true, unavailable: true }],
  ['a refused connection', new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:2379'), { notProposed: true, unavailable: true }],
  ['the client deadline', new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'), { notProposed: false, unavailable: true }],
  ['the server-side deadline', new GRPCUnknownError('2 UNKNOWN: context deadline exceeded'), { notProposed: false, unavailable: true }],
  ['a timed-out proposal', new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: request timed out'), { notProposed: false, unavailable: true }],
  ['a proposal lost with its leader', new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: request timed out, possibly due to previous leader failure'), { notProposed: false, unavailable: true }],
  ['a leader change during a linearizable read', new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: leader changed'), { notProposed: false, unavailable: true }],
  ['a dropped connection', new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped'), { notProposed: false, unavailable: true }],
  ['a stopping member', new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: server stopped'), { notProposed: false, unavailable: true }],
  ['a member whose Raft node stopped (removed from the cluster)', new GRPCUnknownError('2 UNKNOWN: raft: stopped'), { notProposed: false, unavailable: true }],
  ['a txn etcd rejects', new EtcdError('etcdserver: duplicate key given in txn request'), { notProposed: false, unavailable: false }],
  ['an unrelated error', new Error('no leader'), { notProposed: false, unavailable: false }],
];

for (const [what, err, want] of cases) {
  test(`classifies ${what}`, () => {
    assert.equal(notProposed(err), want.notProposed, 'safe to resend a write');
    assert.equal(isUnavailable(err), want.unavailable, 'safe to resend a read');
  });
}

test('unavailable failures map to the catalog\'s unavailable code, others to internal', () => {
  assert.equal((storeError(new GRPCUnknownError('2 UNKNOWN: raft proposal dropped')) as ProconsulError).code, 'unavailable');
  assert.equal((storeError(new GRPCUnknownError('2 UNKNOWN: something else')) as ProconsulError).code, 'internal');
});
