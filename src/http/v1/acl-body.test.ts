// ACL bodies of the wrong JSON types are refused as Consul's decoder refuses them (400 naming the
// field), where they reached the endpoints and failed there with a TypeError (a 500).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAuthMethod, decodeBindingRule, decodePolicy, decodeRole, decodeToken } from './acl-body.ts';

const body = (v: unknown) => Buffer.from(JSON.stringify(v));

test('a field of the wrong JSON type is a 400 with Go\'s unmarshal message and Consul\'s prefix', () => {
  assert.throws(() => decodePolicy(body({ Name: true })), { name: 'BadRequestError', message: 'Policy decoding failed: json: cannot unmarshal bool into Go struct field ACLPolicy.Name of type string' });
  assert.throws(() => decodePolicy(body({ Name: 'p', Datacenters: [1] })), { message: 'Policy decoding failed: json: cannot unmarshal number into Go struct field ACLPolicy.Datacenters of type []string' });
  assert.throws(() => decodeRole(body({ name: 1 })), { message: 'Role decoding failed: json: cannot unmarshal number into Go struct field ACLRole.Name of type string' });
  assert.throws(() => decodeBindingRule(body({ AuthMethod: { X: 1 } })), { message: 'BindingRule decoding failed: json: cannot unmarshal object into Go struct field ACLBindingRule.AuthMethod of type string' });
  assert.throws(() => decodeToken(body({ Local: 'yes' })), { message: 'Token decoding failed: json: cannot unmarshal string into Go struct field ACLToken.Local of type bool' });
  assert.throws(() => decodeToken(body({ Policies: [{ ID: 5 }] })), { message: 'Token decoding failed: json: cannot unmarshal number into Go struct field ACLTokenPolicyLink.Policies.ID of type string' });
  assert.throws(() => decodeToken(body({ Policies: ['p'] })), { message: /^Token decoding failed: json: cannot unmarshal string into Go struct field \.Policies/ });
  assert.throws(() => decodePolicy(body([])), { message: 'Policy decoding failed: json: cannot unmarshal array into Go value of type structs.ACLPolicy' });
});

test('an auth method\'s NamespaceRules elements are typed (a numeric BindNamespace was stored and every login then failed with a TypeError)', () => {
  const m = { Name: 'm', Type: 'jwt' };
  assert.throws(() => decodeAuthMethod(body({ ...m, NamespaceRules: [{ BindNamespace: 5 }] })), {
    name: 'BadRequestError', message: 'AuthMethod decoding failed: json: cannot unmarshal number into Go struct field ACLAuthMethodNamespaceRule.NamespaceRules.BindNamespace of type string',
  });
  assert.throws(() => decodeAuthMethod(body({ ...m, NamespaceRules: [{ Selector: ['x'], BindNamespace: 'a' }] })), { message: /ACLAuthMethodNamespaceRule\.NamespaceRules\.Selector of type string$/ });
  assert.throws(() => decodeAuthMethod(body({ ...m, NamespaceRules: ['a'] })), { message: /^AuthMethod decoding failed: json: cannot unmarshal string into Go struct field \.NamespaceRules/ });
  assert.deepEqual(decodeAuthMethod(body({ ...m, namespacerules: [{ selector: 's', bindnamespace: 'b' }] })).NamespaceRules, [{ Selector: 's', BindNamespace: 'b' }]);
});

test('null fields keep their zero value and well-typed bodies decode as before', () => {
  assert.deepEqual(decodePolicy(body({ Name: null, rules: 'x' })), { Name: null, Rules: 'x' });
  assert.equal(decodeToken(body({ Policies: [{ Name: 'p' }], Local: true })).Policies?.[0].Name, 'p');
});

test('the authorize batch: null elements and fields are zero values, wrong kinds a 400 with Consul\'s prefix', async () => {
  const { decodeAuthorizeBatch } = await import('./acl.ts');
  const zero = { Resource: '', Segment: '', Access: '' };
  assert.deepEqual(decodeAuthorizeBatch(body([null, { Resource: 'key', Access: 'read' }, { Resource: 'key', Access: null }])), [zero, { ...zero, Resource: 'key', Access: 'read' }, { ...zero, Resource: 'key' }]);
  assert.throws(() => decodeAuthorizeBatch(body({})), { message: 'Failed to decode request body: json: cannot unmarshal object into Go value of type []structs.ACLAuthorizationRequest' });
  assert.throws(() => decodeAuthorizeBatch(body([1])), { message: 'Failed to decode request body: json: cannot unmarshal number into Go value of type structs.ACLAuthorizationRequest' });
  assert.throws(() => decodeAuthorizeBatch(body([{ Resource: ['key'] }])), { message: 'Failed to decode request body: json: cannot unmarshal array into Go struct field ACLAuthorizationRequest.Resource of type string' });
});

test('login bodies: a wrong-typed AuthMethod is a 400 with Consul\'s prefix (it was looked up as "[object Object]")', async () => {
  const { decodeObject } = await import('./acl-body.ts');
  const checked = { types: { AuthMethod: 'string' as const, Meta: 'map[string]string' as const }, prefix: 'Failed to decode request body' };
  assert.throws(() => decodeObject(body({ AuthMethod: { X: 1 } }), ['AuthMethod', 'Meta'], 'structs.ACLLoginParams', checked), {
    message: 'Failed to decode request body: json: cannot unmarshal object into Go struct field ACLLoginParams.AuthMethod of type string',
  });
  assert.throws(() => decodeObject(body([]), ['AuthMethod'], 'structs.ACLLoginParams', checked), {
    message: 'Failed to decode request body: json: cannot unmarshal array into Go value of type structs.ACLLoginParams',
  });
});
