import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { ManualClock } from '../../clock.ts';
import { NoLeaderError } from '../../errors.ts';
import { errorResponse } from '../../http/errors.ts';
import { isUnavailable, notProposed } from './errors.ts';
import { holdWhileNoLeader, JITTER_FRACTION } from './hold.ts';

const noLeader = () => new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: no leader');
const deadline = () => new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded');

/** Lets the loop's awaited call and its pause settle. */
const settle = () => new Promise((r) => setImmediate(r));

/** A call failing with `errors` in turn, then answering 'ok'; counts its attempts. */
function scripted(errors: Error[]) {
  const calls = { n: 0 };
  const call = async () => {
    const err = errors[calls.n++];
    if (err) throw err;
    return 'ok';
  };
  return { calls, call };
}

test('a call refused for want of a leader is retried after jittered pauses until it succeeds', async () => {
  const clock = new ManualClock();
  const pauses: number[] = [];
  const timer = clock.setTimer.bind(clock);
  clock.setTimer = (ms, fn) => { pauses.push(ms); return timer(ms, fn); };
  const { calls, call } = scripted([noLeader(), noLeader()]);
  const done = holdWhileNoLeader({ clock, holdMs: 7_000, random: () => 0.5 }, call, notProposed);
  await settle();
  assert.equal(calls.n, 1);
  clock.advance(7_000 / JITTER_FRACTION / 2);
  await settle();
  assert.equal(calls.n, 2);
  clock.advance(7_000 / JITTER_FRACTION / 2);
  assert.equal(await done, 'ok');
  assert.equal(calls.n, 3);
  // Consul's lib.RandomStagger(RPCHoldTimeout / JitterFraction): a random part of 7 s / 16.
  assert.deepEqual(pauses, [218.75, 218.75]);
});

test('past the hold a retryable failure becomes Consul\'s 500 No cluster leader, with the last failure as its cause', async () => {
  const clock = new ManualClock();
  const last = noLeader();
  const done = holdWhileNoLeader({ clock, holdMs: 1_000, random: () => 0.99 }, async () => { throw last; }, notProposed);
  let err: unknown;
  done.catch((e: unknown) => { err = e; });
  for (let i = 0; i < 40 && err === undefined; i++) {
    await settle();
    clock.advance(100);
  }
  assert.ok(err instanceof NoLeaderError);
  assert.equal(err.cause, last);
  assert.deepEqual(errorResponse(err), { status: 500, message: 'No cluster leader' });
});

test('a write whose deadline passed is not resent (it may have been applied); a read is', async () => {
  const clock = new ManualClock();
  const write = scripted([deadline()]);
  await assert.rejects(holdWhileNoLeader({ clock }, write.call, notProposed), GRPCDeadlineExceededError);
  assert.equal(write.calls.n, 1);

  const read = scripted([deadline()]);
  const done = holdWhileNoLeader({ clock, random: () => 0 }, read.call, isUnavailable);
  await settle();
  clock.advance(0);
  assert.equal(await done, 'ok');
  assert.equal(read.calls.n, 2);
});

test('with no hold (rpc_hold_timeout = 0s) the first retryable failure answers at once', async () => {
  const { calls, call } = scripted([noLeader()]);
  await assert.rejects(holdWhileNoLeader({ clock: new ManualClock(), holdMs: 0 }, call, notProposed), NoLeaderError);
  assert.equal(calls.n, 1);
});

test('an abort (the store closing) ends a pause at once: its timer is cancelled and the last failure thrown', async () => {
  const clock = new ManualClock();
  let cancelled = 0;
  const timer = clock.setTimer.bind(clock);
  clock.setTimer = (ms, fn) => { const h = timer(ms, fn); return { cancel: () => { cancelled++; h.cancel(); } }; };
  const closing = new AbortController();
  const last = noLeader();
  const { calls, call } = scripted([last, noLeader()]);
  const done = holdWhileNoLeader({ clock, signal: closing.signal }, call, notProposed);
  await settle();
  closing.abort();
  await assert.rejects(done, (err) => err === last);
  assert.equal(calls.n, 1);
  assert.equal(cancelled, 1);
});
