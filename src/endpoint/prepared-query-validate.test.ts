import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUUID, queryProblem } from './prepared-query-validate.ts';
import type { PreparedQueryRecord } from '../state/index.ts';

function q(over: Partial<PreparedQueryRecord> & { svc?: Partial<PreparedQueryRecord['Service']> } = {}): PreparedQueryRecord {
  const { svc, ...rest } = over;
  return {
    ID: '', Name: 'n', Session: '', Token: '', Template: { Type: '', Regexp: '', RemoveEmptyTags: false },
    Service: {
      Service: 'web', SamenessGroup: '', Failover: { NearestN: 0, Datacenters: null, Targets: null }, OnlyPassing: false,
      IgnoreCheckIDs: null, Near: '', Tags: null, NodeMeta: null, ServiceMeta: null, Peer: '', Connect: false, ...svc,
    },
    DNS: { TTL: '' }, ...rest,
  };
}

test('a valid query has no problem; names, templates or sessions make it addressable', () => {
  assert.equal(queryProblem(q()), undefined);
  assert.equal(queryProblem(q({ Name: '', Session: 's' })), undefined);
  assert.equal(queryProblem(q({ Name: '', Template: { Type: 'name_prefix_match', Regexp: '', RemoveEmptyTags: false } })), undefined);
  assert.equal(queryProblem(q({ Name: '' })), 'Must be bound to a session');
});

test('Consul texts for each rule', () => {
  assert.equal(queryProblem(q({ svc: { Service: '' } })), 'Must provide a Service name to query');
  assert.equal(queryProblem(q({ svc: { Failover: { NearestN: -2, Datacenters: null, Targets: null } } })), "Bad NearestN '-2', must be >= 0");
  assert.equal(queryProblem(q({ svc: { Failover: { NearestN: 0, Datacenters: ['dc2'], Targets: [{ Peer: 'p', Datacenter: '' }] } } })), 'Targets cannot be populated with NearestN or Datacenters');
  assert.equal(queryProblem(q({ svc: { Failover: { NearestN: 0, Datacenters: null, Targets: [{ Peer: '', Datacenter: 'dc2' }] } } })), undefined);
  assert.equal(queryProblem(q({ svc: { NodeMeta: { 'bad key': 'v' } } })), "Couldn't load metadata pair ('bad key', 'v'): Key contains invalid characters");
  assert.equal(queryProblem(q({ svc: { NodeMeta: { 'consul-ok': 'v' } } })), undefined);
  assert.equal(queryProblem(q({ DNS: { TTL: '1x' } })), `Bad DNS TTL '1x': time: unknown unit "x" in duration "1x"`);
  assert.equal(queryProblem(q({ DNS: { TTL: '-1s' } })), "DNS TTL '-1000000000', must be >=0");
  assert.equal(queryProblem(q({ DNS: { TTL: '10s' } })), undefined);
  assert.match(queryProblem(q({ Token: '<hidden>' }))!, /^Bad Token '<hidden>'/);
});

test('isUUID', () => {
  assert.equal(isUUID('8F246B77-F3E1-FF88-5B48-8EC93ABF3E05'), true);
  assert.equal(isUUID('8f246b77-f3e1-ff88-5b48-8ec93abf3e0'), false);
  assert.equal(isUUID('web'), false);
});
