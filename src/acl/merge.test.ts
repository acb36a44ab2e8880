import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergePolicies } from './merge.ts';
import { parseRules } from './rules.ts';
import { newPolicyAuthorizer } from './scoped-authorizer.ts';

const authz = (...rules: string[]) => newPolicyAuthorizer(rules.map(parseRules));

test('the same segment in several policies: deny > write > list > read, in any order', () => {
  const levels = ['read', 'list', 'write', 'deny'];
  for (let i = 0; i < levels.length; i++) {
    for (let j = 0; j < levels.length; j++) {
      const winner = levels[Math.max(i, j)];
      const merged = mergePolicies([parseRules(`key "k" { policy = "${levels[i]}" }`), parseRules(`key "k" { policy = "${levels[j]}" }`)]);
      assert.deepEqual(merged.key.exact, [{ name: 'k', policy: winner }], `${levels[i]} + ${levels[j]}`);
    }
  }
});

test('deny in one policy overrides write in another for the same rule', () => {
  const a = authz('service_prefix "" { policy = "write" }', 'service_prefix "" { policy = "deny" }');
  assert.equal(a.serviceWrite('web'), 'deny');
  assert.equal(a.serviceRead('web'), 'deny');
});

test('exact and prefix rules merge separately: an exact read still beats a merged prefix write', () => {
  const a = authz('key_prefix "app/" { policy = "write" }', 'key "app/cfg" { policy = "read" }');
  assert.equal(a.keyWrite('app/cfg'), 'deny');
  assert.equal(a.keyWrite('app/other'), 'allow');
});

test('rules from different policies combine; scalars take the strongest', () => {
  const a = authz('node_prefix "" { policy = "read" }\noperator = "read"', 'key_prefix "" { policy = "write" }\noperator = "write"', 'acl = "read"');
  assert.equal(a.nodeRead('n'), 'allow');
  assert.equal(a.keyWrite('k'), 'allow');
  assert.equal(a.operatorWrite(), 'allow');
  assert.equal(a.aclRead(), 'allow');
  assert.equal(a.aclWrite(), 'deny');
  assert.equal(authz('operator = "write"', 'operator = "deny"').operatorRead(), 'deny');
});

test('a service\'s policy and intentions merge independently', () => {
  const merged = mergePolicies([
    parseRules('service "web" { policy = "write" }'),
    parseRules('service "web" { policy = "read"\n intentions = "write" }'),
  ]);
  assert.deepEqual(merged.service.exact, [{ name: 'web', policy: 'write', intentions: 'write' }]);
  const a = newPolicyAuthorizer([merged]);
  assert.equal(a.serviceWrite('web'), 'allow');
  assert.equal(a.intentionWrite('web'), 'allow');
});

test('merging does not alias the input policies', () => {
  const p1 = parseRules('service "web" { policy = "read" }');
  mergePolicies([p1, parseRules('service "web" { policy = "write" }')]);
  assert.equal(p1.service.exact[0].policy, 'read');
});

test('duplicate rules inside one policy merge by precedence too', () => {
  const a = authz('key "k" { policy = "write" }\nkey "k" { policy = "read" }');
  assert.equal(a.keyWrite('k'), 'allow');
  const b = authz('key "k" { policy = "deny" }\nkey "k" { policy = "write" }');
  assert.equal(b.keyRead('k'), 'deny');
});

test('namespace and partition blocks merge by name', () => {
  const merged = mergePolicies([
    parseRules('namespace "ns" { key_prefix "" { policy = "read" } }\npartition "p" { mesh = "read" }'),
    parseRules('namespace "ns" { policy = "write"\n key_prefix "" { policy = "deny" } }\npartition "p" { mesh = "write" }'),
  ]);
  assert.equal(merged.namespaces.exact.length, 1);
  assert.equal(merged.namespaces.exact[0].policy, 'write');
  assert.deepEqual(merged.namespaces.exact[0].rules.key.prefix, [{ name: '', policy: 'deny' }]);
  assert.equal(merged.partitions.exact[0].rules.mesh, 'write');
  assert.equal(mergePolicies([]).acl, '');
});
