// The multi-endpoint etcd fault handling (src/store/etcd/faults.ts) without etcd: a host is
// skipped only after a connection failure, timeouts never mark it, and a call is resent on
// another host only when it was never sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { HostDownError, multiHostFaultHandling, notSent } from '../src/store/etcd/faults.ts';

const refused = () => new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:2379');

test('only never-sent failures count as safe to resend', () => {
  assert.equal(notSent(refused()), true);
  assert.equal(notSent(new HostDownError('http://a')), true);
  assert.equal(notSent(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded')), false);
  assert.equal(notSent(new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: no leader')), false);
  assert.equal(notSent(new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped')), false);
});

test('a refused host is skipped; a timed-out one is not; all down still tries', async () => {
  const fh = multiHostFaultHandling(['a', 'b']);
  const a = fh.host!('a');
  const b = fh.host!('b');
  await assert.rejects(a.execute(() => { throw new GRPCDeadlineExceededError('deadline'); }));
  assert.equal(await a.execute(() => 1), 1, 'a timeout does not mark the host');
  await assert.rejects(a.execute(() => { throw refused(); }));
  await assert.rejects(a.execute(() => 1), HostDownError);
  await assert.rejects(b.execute(() => { throw refused(); }));
  assert.equal(await a.execute(() => 2), 2, 'with every host down calls go through');
});

test('the global policy resends only never-sent calls, at most once per endpoint', async () => {
  const fh = multiHostFaultHandling(['a', 'b', 'c']);
  let n = 0;
  await assert.rejects(fh.global!.execute(() => { n++; throw refused(); }));
  assert.equal(n, 3);
  n = 0;
  await assert.rejects(fh.global!.execute(() => { n++; throw new GRPCDeadlineExceededError('deadline'); }));
  assert.equal(n, 1);
  n = 0;
  assert.equal(await fh.global!.execute(() => { if (++n < 2) throw refused(); return 'ok'; }), 'ok');
});
