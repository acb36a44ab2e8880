import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACL_POLICY_GLOBAL_MANAGEMENT_ID, ANONYMOUS_TOKEN_ID, aclIDReserved, isValidServiceIdentityName,
  nodeIdentityPolicy, serviceIdentityPolicy, serviceIdentityRules, syntheticPolicyID,
} from './builtins.ts';
import { parseRules } from './rules.ts';
import { newPolicyAuthorizer } from './scoped-authorizer.ts';
import { chainedAuthorizer, denyAll } from './static.ts';
import { ACL_TEMPLATED_POLICIES, templatedPolicyRules, templatedPolicySynthetic, validateTemplatedPolicy } from './templated.ts';

const authorize = (rules: string) => chainedAuthorizer([newPolicyAuthorizer([parseRules(rules)]), denyAll()]);

test('built-in IDs are Consul\'s and reserved', () => {
  assert.equal(ACL_POLICY_GLOBAL_MANAGEMENT_ID, '00000000-0000-0000-0000-000000000001');
  assert.equal(ANONYMOUS_TOKEN_ID, '00000000-0000-0000-0000-000000000002');
  assert.ok(aclIDReserved(ACL_POLICY_GLOBAL_MANAGEMENT_ID));
  assert.ok(!aclIDReserved('7d8cf5a2-0000-0000-0000-000000000001'));
});

test('a service identity grants its service and sidecar write, catalog read, nothing else', () => {
  const policy = serviceIdentityPolicy({ ServiceName: 'web', Datacenters: ['dc1'] });
  assert.equal(policy.Rules, serviceIdentityRules('web'));
  assert.equal(policy.Description, 'synthetic policy for service identity "web"');
  assert.deepEqual(policy.Datacenters, ['dc1']);
  const a = authorize(policy.Rules);
  assert.equal(a.serviceWrite('web'), 'allow');
  assert.equal(a.serviceWrite('web-sidecar-proxy'), 'allow');
  assert.equal(a.serviceWrite('db'), 'deny');
  assert.equal(a.serviceRead('db'), 'allow');
  assert.equal(a.nodeRead('n1'), 'allow');
  assert.equal(a.nodeWrite('n1'), 'deny');
  assert.equal(a.keyRead('k'), 'deny');
  assert.equal(a.intentionRead('web'), 'allow');
});

test('a node identity grants its node write and service read, in its datacenter', () => {
  const policy = nodeIdentityPolicy({ NodeName: 'n1', Datacenter: 'dc2' });
  assert.deepEqual(policy.Datacenters, ['dc2']);
  assert.equal(policy.Description, 'synthetic policy for node identity "n1"');
  const a = authorize(policy.Rules);
  assert.equal(a.nodeWrite('n1'), 'allow');
  assert.equal(a.nodeWrite('n2'), 'deny');
  assert.equal(a.serviceRead('web'), 'allow');
  assert.equal(a.serviceWrite('web'), 'deny');
});

test('synthetic policy IDs reproduce Consul\'s fnv.Sum(rules) (rules bytes + empty-input hash)', () => {
  const basis = 144066263297769815596495629667062367629n.toString(16);
  assert.equal(syntheticPolicyID('ab'), `6162${basis}`);
  const p = serviceIdentityPolicy({ ServiceName: 'web' });
  assert.equal(p.Name, `synthetic-policy-${p.ID}`);
  assert.equal(p.Datacenters, undefined);
});

test('service identity names: lowercase alphanumerics, dashes and underscores', () => {
  assert.ok(isValidServiceIdentityName('web-1_a'));
  for (const bad of ['Web', '-web', 'web-', 'we b', '', 'x'.repeat(257)]) assert.ok(!isValidServiceIdentityName(bad), bad);
});

test('templated policies: Consul\'s IDs and names, rendered rules, synthetic description', () => {
  assert.equal(ACL_TEMPLATED_POLICIES.get('builtin/service')?.TemplateID, '00000000-0000-0000-0000-000000000003');
  assert.equal(ACL_TEMPLATED_POLICIES.get('builtin/node')?.TemplateID, '00000000-0000-0000-0000-000000000004');
  assert.equal(ACL_TEMPLATED_POLICIES.get('builtin/dns')?.Schema, '');
  assert.equal(templatedPolicyRules({ TemplateName: 'builtin/service', TemplateVariables: { name: 'api' } }), serviceIdentityRules('api'));
  const dns = authorize(templatedPolicyRules({ TemplateName: 'builtin/dns' }));
  assert.equal(dns.serviceRead('x'), 'allow');
  assert.equal(dns.preparedQueryRead('q'), 'allow');
  assert.equal(dns.keyRead('k'), 'deny');
  const gw = authorize(templatedPolicyRules({ TemplateName: 'builtin/api-gateway', TemplateVariables: { name: 'gw' } }));
  assert.equal(gw.serviceWrite('gw'), 'allow');
  assert.equal(gw.meshRead(), 'allow');
  assert.equal(gw.meshWrite(), 'deny');
  const nomad = authorize(templatedPolicyRules({ TemplateName: 'builtin/nomad-server' }));
  assert.equal(nomad.aclWrite(), 'allow');
  const wi = authorize(templatedPolicyRules({ TemplateName: 'builtin/workload-identity', TemplateVariables: { name: 'w' } }));
  assert.equal(wi.identityWrite('w'), 'allow');
  const synth = templatedPolicySynthetic({ TemplateName: 'builtin/node', TemplateVariables: { name: 'n1' }, Datacenters: ['dc1'] });
  assert.equal(synth.Description, 'synthetic policy generated from templated policy: builtin/node');
  assert.throws(() => templatedPolicyRules({ TemplateName: 'builtin/nope' }), /acl templated policy does not exist: builtin\/nope/);
});

test('templated policy variables are validated with Consul\'s messages', () => {
  assert.deepEqual(validateTemplatedPolicy({ TemplateName: 'builtin/service', TemplateVariables: { name: 'api' } }), []);
  assert.deepEqual(validateTemplatedPolicy({ TemplateName: 'builtin/service' }), ['name is required']);
  assert.deepEqual(validateTemplatedPolicy({ TemplateName: 'builtin/service', TemplateVariables: { name: 'API' } }),
    ['service identity "API" has an invalid name. Only lowercase alphanumeric characters, \'-\' and \'_\' are allowed']);
  assert.deepEqual(validateTemplatedPolicy({ TemplateName: 'builtin/node', TemplateVariables: { name: 'N' } }),
    ['node identity "N"  has an invalid name. Only lowercase alphanumeric characters, \'-\' and \'_\' are allowed']);
  assert.deepEqual(validateTemplatedPolicy({ TemplateName: 'builtin/dns' }), []);
  assert.equal(validateTemplatedPolicy({ TemplateName: 'builtin/x' }).length, 1);
});
