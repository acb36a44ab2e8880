import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RulesError } from './errors.ts';
import { parseRules, SEGMENTED, type Policy } from './rules.ts';

// Every resource kind and disposition, written once in HCL and once in JSON.
const HCL_ALL = `
acl = "write"
keyring = "read"
operator = "deny"
mesh = "write"
peering = "read"
agent "a1" { policy = "read" }
agent_prefix "a" { policy = "write" }
event "e1" { policy = "deny" }
event_prefix "" { policy = "read" }
identity "i1" {
  policy = "write"
  intentions = "deny"
}
identity_prefix "i" { policy = "read" }
key "k/exact" { policy = "write" }
key_prefix "k/" { policy = "list" }
node "n1" { policy = "write" }
node_prefix "" { policy = "read" }
query "q1" { policy = "write" }
query_prefix "" { policy = "read" }
service "web" {
  policy = "write"
  intentions = "read"
}
service_prefix "" { policy = "read" }
session "n1" { policy = "write" }
session_prefix "" { policy = "deny" }
`;

const JSON_ALL = JSON.stringify({
  acl: 'write', keyring: 'read', operator: 'deny', mesh: 'write', peering: 'read',
  agent: { a1: { policy: 'read' } },
  agent_prefix: { a: { policy: 'write' } },
  event: { e1: { policy: 'deny' } },
  event_prefix: { '': { policy: 'read' } },
  identity: { i1: { policy: 'write', intentions: 'deny' } },
  identity_prefix: { i: { policy: 'read' } },
  key: { 'k/exact': { policy: 'write' } },
  key_prefix: { 'k/': { policy: 'list' } },
  node: { n1: { policy: 'write' } },
  node_prefix: { '': { policy: 'read' } },
  query: { q1: { policy: 'write' } },
  query_prefix: { '': { policy: 'read' } },
  service: { web: { policy: 'write', intentions: 'read' } },
  service_prefix: { '': { policy: 'read' } },
  session: { n1: { policy: 'write' } },
  session_prefix: { '': { policy: 'deny' } },
});

function expectError(rules: string, message: string, pos?: { line: number; column: number }): void {
  assert.throws(() => parseRules(rules), (err: unknown) => {
    assert.ok(err instanceof RulesError, `not a RulesError: ${String(err)}`);
    assert.equal(err.message, message);
    assert.equal(err.code, 'bad_request');
    if (pos) assert.deepEqual({ line: err.line, column: err.column }, pos);
    return true;
  });
}

test('HCL and JSON forms of every resource kind parse to the same policy', () => {
  const fromHCL = parseRules(HCL_ALL);
  const fromJSON = parseRules(JSON_ALL);
  assert.deepEqual(fromJSON, fromHCL);
  assert.equal(fromHCL.acl, 'write');
  assert.equal(fromHCL.operator, 'deny');
  assert.deepEqual(fromHCL.key, { exact: [{ name: 'k/exact', policy: 'write' }], prefix: [{ name: 'k/', policy: 'list' }] });
  assert.deepEqual(fromHCL.service.exact, [{ name: 'web', policy: 'write', intentions: 'read' }]);
  assert.deepEqual(fromHCL.service.prefix, [{ name: '', policy: 'read', intentions: '' }]);
  assert.deepEqual(fromHCL.identity.exact, [{ name: 'i1', policy: 'write', intentions: 'deny' }]);
  for (const kind of SEGMENTED) {
    assert.equal(fromHCL[kind].exact.length + fromHCL[kind].prefix.length >= 2, true, kind);
  }
});

test('JSON accepts the list-of-blocks form and several labels in one object', () => {
  const list = parseRules('{"key": [{"a": {"policy": "read"}}, {"b": [{"policy": "write"}]}]}');
  const obj = parseRules('{"key": {"a": {"policy": "read"}, "b": {"policy": "write"}}}');
  assert.deepEqual(list, obj);
  assert.deepEqual(list.key.exact.map((r) => r.name), ['a', 'b']);
});

test('HCL nested-object and repeated-block forms decode like blocks', () => {
  assert.deepEqual(parseRules('key = { a = { policy = "read" } }').key.exact, [{ name: 'a', policy: 'read' }]);
  const repeated = parseRules('key "a" { policy = "read" }\nkey "a" { policy = "deny" }');
  assert.deepEqual(repeated.key.exact, [{ name: 'a', policy: 'read' }, { name: 'a', policy: 'deny' }]);
});

test('empty rules are an empty policy; unknown keys are ignored as hcl.Decode does', () => {
  const empty = parseRules('');
  assert.equal(empty.acl, '');
  assert.deepEqual(empty.key, { exact: [], prefix: [] });
  const p = parseRules('bogus "x" { policy = "read" }\nfoo = "bar"\nkey "a" {\n  policy = "read"\n  extra = 1\n}');
  assert.deepEqual(p.key.exact, [{ name: 'a', policy: 'read' }]);
});

test('keys match case-insensitively and dispositions are canonicalized to lower case', () => {
  const p = parseRules('KEY_PREFIX "" { Policy = "READ" }\nOperator = "Write"');
  assert.deepEqual(p.key.prefix, [{ name: '', policy: 'read' }]);
  assert.equal(p.operator, 'write');
});

test('numbers decode as strings (and are then invalid dispositions)', () => {
  expectError('acl = 1', 'Invalid acl policy: "1"', { line: 1, column: 1 });
});

test('list is valid only for key and key_prefix', () => {
  assert.equal(parseRules('key "a" { policy = "list" }').key.exact[0].policy, 'list');
  for (const kind of ['agent', 'event', 'identity', 'node', 'query', 'service', 'session']) {
    assert.throws(() => parseRules(`${kind} "x" { policy = "list" }`), new RegExp(`^RulesError: Invalid ${kind} policy: `));
    assert.throws(() => parseRules(`${kind}_prefix "x" { policy = "list" }`), new RegExp(`Invalid ${kind}_prefix policy: `));
  }
  for (const scalar of ['acl', 'keyring', 'operator', 'mesh', 'peering']) {
    expectError(`${scalar} = "list"`, `Invalid ${scalar} policy: "list"`);
  }
});

test('invalid rules report Consul\'s %#v text and the rule\'s position', () => {
  expectError('acl = "read"\n\nkey "foo" {\n  policy = "nope"\n}',
    'Invalid key policy: &acl.KeyRule{Prefix:"foo", Policy:"nope", EnterpriseRule:acl.EnterpriseRule{}}', { line: 3, column: 1 });
  expectError('agent "n" { policy = "x" }', 'Invalid agent policy: &acl.AgentRule{Node:"n", Policy:"x"}', { line: 1, column: 1 });
  expectError('\n  node_prefix "" { policy = "x" }', 'Invalid node_prefix policy: &acl.NodeRule{Name:"", Policy:"x", EnterpriseRule:acl.EnterpriseRule{}}', { line: 2, column: 3 });
  expectError('service "s" {\n policy = "read"\n intentions = "list"\n}',
    'Invalid service intentions policy: &acl.ServiceRule{Name:"s", Policy:"read", Intentions:"list", EnterpriseRule:acl.EnterpriseRule{}}', { line: 1, column: 1 });
  expectError('session "s" {}', 'Invalid session policy: &acl.SessionRule{Node:"s", Policy:""}');
  expectError('event_prefix "e" { policy = "x" }', 'Invalid event_prefix policy: &acl.EventRule{Event:"e", Policy:"x"}');
  expectError('query "q" { policy = "x" }', 'Invalid query policy: &acl.PreparedQueryRule{Prefix:"q", Policy:"x"}');
  expectError('identity "i" { policy = "x" }', 'Invalid identity policy: &acl.IdentityRule{Name:"i", Policy:"x", Intentions:"", EnterpriseRule:acl.EnterpriseRule{}}');
  expectError('mesh = "nope"', 'Invalid mesh policy: "nope"');
  expectError('peering = "nope"', 'Invalid peering policy: "nope"');
  expectError('keyring = "nope"', 'Invalid keyring policy: "nope"');
});

test('validation follows Consul\'s order: acl before segmented rules before keyring/operator', () => {
  expectError('operator = "bad"\nkey "k" { policy = "bad" }\nacl = "bad"', 'Invalid acl policy: "bad"');
  expectError('operator = "bad"\nkey "k" { policy = "bad" }', 'Invalid key policy: &acl.KeyRule{Prefix:"k", Policy:"bad", EnterpriseRule:acl.EnterpriseRule{}}');
});

test('JSON rule errors are located in the JSON text', () => {
  expectError('{\n  "key": {\n    "foo": {"policy": "nope"}\n  }\n}',
    'Invalid key policy: &acl.KeyRule{Prefix:"foo", Policy:"nope", EnterpriseRule:acl.EnterpriseRule{}}', { line: 2, column: 3 });
});

test('syntax errors carry the parser\'s message and position', () => {
  expectError('key "foo" {\n  policy = "read"\n', 'Failed to parse ACL rules: At 3:2: object expected closing RBRACE got: EOF', { line: 3, column: 2 });
  expectError('key "a" {\n  policy = "read"\n}}', 'Failed to parse ACL rules: At 3:2: expected: IDENT | STRING | ASSIGN | LBRACE got: RBRACE', { line: 3, column: 2 });
  assert.throws(() => parseRules('{"key": {"a": '), (err: unknown) => err instanceof RulesError && err.line === 1 && /^Failed to parse ACL rules: At 1:\d+: /.test(err.message));
});

test('type errors name the attribute like hcl\'s decoder', () => {
  expectError('keyring = true', 'Failed to parse ACL rules: At 1:1: keyring: unknown type for string *ast.LiteralType', { line: 1, column: 1 });
  expectError('key "a" {\n  policy = ["read"]\n}', 'Failed to parse ACL rules: At 2:3: key.a.policy: unknown type for string *ast.ListType', { line: 2, column: 3 });
});

test('namespace and partition blocks hold nested rules', () => {
  const p: Policy = parseRules(`
namespace "team" {
  policy = "write"
  key_prefix "" { policy = "read" }
  acl = "write"
}
namespace_prefix "dev-" { service_prefix "" { policy = "write" } }
partition "east" {
  mesh = "write"
  node "n" { policy = "write" }
  namespace "ns" { service "s" { policy = "write" } }
  namespace_prefix "" { key_prefix "" { policy = "read" } }
}
partition_prefix "" { policy = "read" }
`);
  assert.equal(p.namespaces.exact[0].name, 'team');
  assert.equal(p.namespaces.exact[0].policy, 'write');
  assert.equal(p.namespaces.exact[0].rules.acl, 'write');
  assert.deepEqual(p.namespaces.prefix[0].rules.service.prefix, [{ name: '', policy: 'write', intentions: '' }]);
  const east = p.partitions.exact[0];
  assert.equal(east.rules.mesh, 'write');
  assert.deepEqual(east.rules.node.exact, [{ name: 'n', policy: 'write' }]);
  assert.equal(east.namespaces.exact[0].rules.service.exact[0].name, 's');
  assert.equal(p.partitions.prefix[0].policy, 'read');
  assert.equal(p.key.prefix.length, 0, 'nested rules do not leak to the top level');
});

test('rules inside namespace and partition blocks are validated with positions', () => {
  expectError('namespace "ns1" {\n  key_prefix "" { policy = "bogus" }\n}',
    'Invalid key_prefix policy: &acl.KeyRule{Prefix:"", Policy:"bogus", EnterpriseRule:acl.EnterpriseRule{}}', { line: 2, column: 3 });
  expectError('partition "p" {\n  namespace "n" {\n    operator = "nope"\n  }\n}', 'Invalid operator policy: "nope"', { line: 3, column: 5 });
  expectError('namespace "n" { policy = "list" }', 'Invalid namespace policy: "list"', { line: 1, column: 1 });
});
