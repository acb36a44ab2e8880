import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTHORIZER_METHODS, callMethod } from './authorizer.ts';
import { ACL_POLICY_GLOBAL_MANAGEMENT_RULES, ACL_POLICY_GLOBAL_READ_ONLY_RULES } from './builtins.ts';
import { parseRules } from './rules.ts';
import { newPolicyAuthorizer } from './scoped-authorizer.ts';
import { allowAll, chainedAuthorizer, denyAll, manageAll, rootAuthorizer } from './static.ts';

const MANAGEMENT = new Set(['aclRead', 'aclWrite', 'snapshot', 'namespaceWrite', 'partitionWrite']);

test('allow-all allows everything but ACLs, snapshots and scope management; deny-all denies all', () => {
  for (const m of AUTHORIZER_METHODS) {
    assert.equal(callMethod(allowAll(), m, 'x'), MANAGEMENT.has(m) ? 'deny' : 'allow', m);
    assert.equal(callMethod(denyAll(), m, 'x'), 'deny', m);
    assert.equal(callMethod(manageAll(), m, 'x'), 'allow', m);
  }
});

test('rootAuthorizer names the static authorizers', () => {
  assert.equal(rootAuthorizer('allow'), allowAll());
  assert.equal(rootAuthorizer('deny'), denyAll());
  assert.equal(rootAuthorizer('manage'), manageAll());
  assert.equal(rootAuthorizer('root'), null);
});

test('chained: the first non-default decision wins, else the default policy decides', () => {
  const token = newPolicyAuthorizer([parseRules('key_prefix "app/" { policy = "write" }\nkey "app/secret" { policy = "deny" }')]);
  const denyDefault = chainedAuthorizer([token, denyAll()]);
  const allowDefault = chainedAuthorizer([token, allowAll()]);
  assert.equal(denyDefault.keyWrite('app/x'), 'allow');
  assert.equal(denyDefault.keyRead('other'), 'deny', 'default_policy=deny');
  assert.equal(allowDefault.keyRead('other'), 'allow', 'default_policy=allow');
  assert.equal(allowDefault.keyRead('app/secret'), 'deny', 'an explicit deny beats allow-by-default');
  assert.equal(allowDefault.aclRead(), 'deny', 'allow-all never grants ACL access');
  assert.equal(chainedAuthorizer([token]).nodeRead('n'), 'deny', 'an exhausted chain denies');
  assert.equal(chainedAuthorizer([]).operatorRead(), 'deny');
});

test('anonymous token without policies: access is exactly the default policy', () => {
  const anonymous = newPolicyAuthorizer([]);
  assert.equal(chainedAuthorizer([anonymous, denyAll()]).serviceRead('web'), 'deny');
  assert.equal(chainedAuthorizer([anonymous, allowAll()]).serviceRead('web'), 'allow');
  const dnsAnonymous = newPolicyAuthorizer([parseRules('service_prefix "" { policy = "read" }')]);
  assert.equal(chainedAuthorizer([dnsAnonymous, denyAll()]).serviceRead('web'), 'allow');
  assert.equal(chainedAuthorizer([dnsAnonymous, denyAll()]).serviceWrite('web'), 'deny');
});

test('the global-management rules allow every CE check; global-read-only allows reads only', () => {
  const mgmt = chainedAuthorizer([newPolicyAuthorizer([parseRules(ACL_POLICY_GLOBAL_MANAGEMENT_RULES)]), denyAll()]);
  for (const m of AUTHORIZER_METHODS) {
    if (m.startsWith('identity') || m.startsWith('trafficPermissions') || m === 'intentionDefaultAllow') continue;
    assert.equal(callMethod(mgmt, m, 'anything'), 'allow', m);
  }
  const ro = chainedAuthorizer([newPolicyAuthorizer([parseRules(ACL_POLICY_GLOBAL_READ_ONLY_RULES)]), denyAll()]);
  assert.equal(ro.keyRead('k'), 'allow');
  assert.equal(ro.keyWrite('k'), 'deny');
  assert.equal(ro.aclRead(), 'allow');
  assert.equal(ro.aclWrite(), 'deny');
  assert.equal(ro.intentionRead('web'), 'allow');
  assert.equal(ro.snapshot(), 'deny');
});
