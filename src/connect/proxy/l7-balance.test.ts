import assert from 'node:assert/strict';
import { test } from 'node:test';
import { balanceState, chooseInstance, hashKey, hold } from './l7-balance.ts';
import type { L7Request } from './l7-route.ts';

const keys = ['n1/a', 'n1/b', 'n2/c'];
const req = (headers: Record<string, string> = {}, query = '', sourceIp = '10.0.0.9'): L7Request => ({ method: 'GET', path: '/', query: new URLSearchParams(query), headers, sourceIp });

test('without a load balancer the instances take turns (Envoy round robin); random uses the injected source', () => {
  const s = balanceState();
  assert.deepEqual([0, 1, 2, 3].map(() => chooseInstance(keys, undefined, req(), s, () => 0)), [0, 1, 2, 0]);
  assert.equal(chooseInstance(keys, { Policy: 'random' }, req(), s, () => 0.7), 2);
});

test('least_request takes the less busy of ChoiceCount random picks', () => {
  const s = balanceState();
  const release = hold(s, 'n1/a');
  const picks = [0, 0.5];
  let i = 0;
  assert.equal(chooseInstance(keys, { Policy: 'least_request' }, req(), s, () => picks[i++ % 2]), 1, 'a has one in flight, b none');
  release();
  release();
  assert.equal(s.inflight.size, 0, 'releasing twice counts once');
});

test('ring_hash: one key always lands on one instance, keys spread; no key falls back to random', () => {
  const lb = { Policy: 'ring_hash', HashPolicies: [{ Field: 'header', FieldValue: 'x-user' }] };
  const s = balanceState();
  const a = chooseInstance(keys, lb, req({ 'x-user': 'alice' }), s, () => 0);
  for (let i = 0; i < 5; i++) assert.equal(chooseInstance(keys, lb, req({ 'x-user': 'alice' }), s, Math.random), a);
  const seen = new Set(Array.from({ length: 60 }, (_, i) => chooseInstance(keys, lb, req({ 'x-user': `u${i}` }), s, () => 0)));
  assert.equal(seen.size, 3, 'sixty users reach all three instances');
  assert.equal(chooseInstance(keys, lb, req(), s, () => 0.99), 2);
  // Removing another instance keeps alice where she was (rendezvous hashing).
  const others = keys.filter((_, i) => i !== (a + 1) % 3);
  assert.equal(others[chooseInstance(others, lb, req({ 'x-user': 'alice' }), s, () => 0)], keys[a]);
});

test('hash keys: cookie, query parameter and source address; a terminal policy with a value ends the list', () => {
  const lb = (policies: unknown[]) => ({ Policy: 'maglev', HashPolicies: policies });
  assert.equal(hashKey(lb([{ Field: 'cookie', FieldValue: 'sid' }]), req({ cookie: 'a=1; sid=xyz' })), 'xyz');
  assert.equal(hashKey(lb([{ Field: 'query_parameter', FieldValue: 'u' }]), req({}, 'u=7')), '7');
  assert.equal(hashKey(lb([{ SourceIP: true }]), req()), '10.0.0.9');
  assert.equal(hashKey(lb([{ Field: 'header', FieldValue: 'x-a', Terminal: true }, { SourceIP: true }]), req({ 'x-a': 'h' })), 'h');
  assert.equal(hashKey(lb([{ Field: 'header', FieldValue: 'x-a', Terminal: true }, { SourceIP: true }]), req()), '10.0.0.9');
  assert.equal(hashKey(lb([{ Field: 'header', FieldValue: 'x-a' }]), req()), undefined);
});
