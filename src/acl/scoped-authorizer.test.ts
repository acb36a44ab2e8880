import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRules } from './rules.ts';
import { newPolicyAuthorizer } from './scoped-authorizer.ts';

const RULES = `
key_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }
operator = "read"
namespace "team" {
  policy = "write"
  key_prefix "" { policy = "write" }
  key "team/locked" { policy = "deny" }
}
namespace_prefix "dev-" { service_prefix "" { policy = "write" } }
partition "east" {
  mesh = "write"
  node "edge" { policy = "write" }
  service_prefix "" { policy = "read" }
  namespace "ns" { service "api" { policy = "write" } }
}
partition_prefix "lab-" { policy = "read" }
`;

test('top-level rules govern the home namespace; namespace blocks govern theirs', () => {
  const a = newPolicyAuthorizer([parseRules(RULES)]);
  assert.equal(a.keyRead('x'), 'allow');
  assert.equal(a.keyWrite('x'), 'deny');
  assert.equal(a.keyWrite('x', { namespace: 'team' }), 'allow');
  assert.equal(a.keyWrite('team/locked', { namespace: 'team' }), 'deny', 'exact rule inside the block');
  assert.equal(a.keyRead('x', { namespace: 'other' }), 'default', 'top-level key rules stay in the home namespace');
  assert.equal(a.serviceWrite('web', { namespace: 'dev-1' }), 'allow', 'namespace_prefix');
  assert.equal(a.serviceWrite('web', { namespace: 'prod' }), 'default');
});

test('partition-wide resources (nodes, operator) are not scoped to a namespace', () => {
  const a = newPolicyAuthorizer([parseRules(RULES)]);
  assert.equal(a.nodeRead('n', { namespace: 'anything' }), 'allow');
  assert.equal(a.operatorRead({ namespace: 'team' }), 'allow');
});

test('partition blocks govern their partition; top-level rules only the home partition', () => {
  const a = newPolicyAuthorizer([parseRules(RULES)]);
  assert.equal(a.meshWrite({ partition: 'east' }), 'allow');
  assert.equal(a.meshWrite(), 'deny', 'home partition: operator read governs mesh');
  assert.equal(a.nodeWrite('edge', { partition: 'east' }), 'allow');
  assert.equal(a.nodeRead('other', { partition: 'east' }), 'default');
  assert.equal(a.serviceRead('web', { partition: 'east' }), 'allow', 'partition rules cover its default namespace');
  assert.equal(a.serviceWrite('api', { partition: 'east', namespace: 'ns' }), 'allow');
  assert.equal(a.serviceRead('web', { partition: 'east', namespace: 'ns' }), 'default');
  assert.equal(a.keyRead('x', { partition: 'west' }), 'default');
});

test('namespace and partition management: block policy, else operator', () => {
  const a = newPolicyAuthorizer([parseRules(RULES)]);
  assert.equal(a.namespaceWrite('team'), 'allow');
  assert.equal(a.namespaceWrite('other'), 'deny', 'operator read');
  assert.equal(a.namespaceRead('other'), 'allow');
  assert.equal(a.partitionRead('lab-1'), 'allow');
  assert.equal(a.partitionWrite('lab-1'), 'deny');
  assert.equal(newPolicyAuthorizer([parseRules('operator = "write"')]).partitionWrite('any'), 'allow');
  assert.equal(newPolicyAuthorizer([]).namespaceRead('x'), 'default');
});

test('a policy homed in another namespace governs that namespace by default', () => {
  const a = newPolicyAuthorizer([parseRules('key_prefix "" { policy = "write" }')], { namespace: 'team' });
  assert.equal(a.keyWrite('k'), 'allow');
  assert.equal(a.keyWrite('k', { namespace: 'team' }), 'allow');
  assert.equal(a.keyWrite('k', { namespace: 'default' }), 'default');
});
