// Policy rules checked by the namespace and partition the policy lives in (Consul Enterprise's
// restrictions): blocks only in the default namespace/partition, and no operator-level grants
// inside a non-default namespace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRules } from './rules.ts';
import { validatePolicyHome } from './rules-validate.ts';

const home = (namespace: string, partition = 'default') => ({ partition, namespace });
const check = (rules: string, h: { partition: string; namespace: string }) => () => validatePolicyHome(parseRules(rules), h);

test('the default namespace of the default partition takes every rule', () => {
  for (const rules of ['operator = "write"', 'namespace "x" { acl = "write" }', 'partition "p" { node_prefix "" { policy = "write" } }', 'query_prefix "" { policy = "read" }']) {
    assert.doesNotThrow(check(rules, home('default')), rules);
  }
});

test('a non-default namespace refuses blocks and operator-level rules', () => {
  const refused: [string, RegExp][] = [
    ['namespace "x" { key_prefix "" { policy = "read" } }', /only allowed in policies of the default namespace/],
    ['namespace_prefix "" { acl = "read" }', /only allowed in policies of the default namespace/],
    ['partition "p" { }', /partition rules|default namespace/],
    ['operator = "read"', /operator rules are not allowed/],
    ['keyring = "read"', /keyring rules are not allowed/],
    ['event_prefix "" { policy = "read" }', /event rules are not allowed/],
    ['query "q" { policy = "write" }', /query rules are not allowed/],
    ['node "n" { policy = "write" }', /node rules granting write/],
  ];
  for (const [rules, why] of refused) assert.throws(check(rules, home('team-a')), { name: 'RulesError', message: why }, rules);
  for (const rules of ['node_prefix "" { policy = "read" }', 'key_prefix "" { policy = "write" }', 'acl = "write"', 'service "web" { policy = "write" }']) {
    assert.doesNotThrow(check(rules, home('team-a')), rules);
  }
});

test('a non-default partition refuses partition blocks but its default namespace takes namespace blocks', () => {
  assert.throws(check('partition "other" { }', home('default', 'ap-1')), /only allowed in policies of the default partition/);
  assert.doesNotThrow(check('namespace "x" { key_prefix "" { policy = "read" } }', home('default', 'ap-1')));
});
