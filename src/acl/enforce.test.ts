import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PermissionDeniedError } from '../errors.ts';
import { denialFor, enforceResource, requireAllowed } from './enforce.ts';
import { aclNotFoundError, permissionDeniedByACL, permissionDeniedByACLUnnamed } from './errors.ts';
import { parseRules } from './rules.ts';
import { newPolicyAuthorizer } from './scoped-authorizer.ts';
import { allowAll, chainedAuthorizer, denyAll } from './static.ts';

const ID = 'b1f9a2c0-1111-2222-3333-444455556666';

test('permission-denied messages match Consul\'s format', () => {
  assert.equal(permissionDeniedByACL(ID, 'key', 'write', 'app/db').message,
    `Permission denied: token with AccessorID '${ID}' lacks permission 'key:write' on "app/db"`);
  assert.equal(permissionDeniedByACLUnnamed(ID, 'operator', 'read').message,
    `Permission denied: token with AccessorID '${ID}' lacks permission 'operator:read'`);
  assert.equal(permissionDeniedByACL('', 'service', 'read', 'web').message,
    'Permission denied: provided token lacks permission \'service:read\' on "web"');
  assert.equal(permissionDeniedByACL('', 'service', 'read', 'foobar', { partition: 'foo', namespace: 'bar' }).message,
    'Permission denied: provided token lacks permission \'service:read\' on "foobar" in partition "foo" in namespace "bar"');
  assert.equal(permissionDeniedByACL('', 'service', 'read', 'web', { partition: 'default', namespace: 'default' }).message,
    'Permission denied: provided token lacks permission \'service:read\' on "web"');
  const e = permissionDeniedByACL(ID, 'key', 'read', 'k');
  assert.ok(e instanceof PermissionDeniedError);
  assert.equal(e.code, 'permission_denied');
  assert.equal(aclNotFoundError().message, 'ACL not found');
  assert.equal(aclNotFoundError().code, 'permission_denied');
});

test('requireAllowed throws the denial of the method that refused; default counts as deny', () => {
  const a = newPolicyAuthorizer([parseRules('key_prefix "app/" { policy = "read" }')]);
  requireAllowed(a, ID, 'keyRead', 'app/x');
  assert.throws(() => requireAllowed(a, ID, 'keyWrite', 'app/x'), { message: `Permission denied: token with AccessorID '${ID}' lacks permission 'key:write' on "app/x"` });
  assert.throws(() => requireAllowed(a, ID, 'keyList', 'app/'), /lacks permission 'key:list' on "app\/"/);
  assert.throws(() => requireAllowed(a, ID, 'nodeRead', 'n1'), /'node:read' on "n1"/, 'no rule: default is not allow');
  assert.throws(() => requireAllowed(a, ID, 'snapshot'), { message: `Permission denied: token with AccessorID '${ID}' lacks permission 'acl:write'` });
  assert.equal(denialFor(ID, 'serviceReadAll').message, `Permission denied: token with AccessorID '${ID}' lacks permission 'service:read' on "all services"`);
  assert.equal(denialFor(ID, 'nodeReadAll').message, `Permission denied: token with AccessorID '${ID}' lacks permission 'node:read' on "all nodes"`);
  assert.equal(denialFor(ID, 'serviceWriteAny').message, `Permission denied: token with AccessorID '${ID}' lacks permission 'service:write' on "any service"`);
  assert.equal(denialFor(ID, 'intentionDefaultAllow').message, 'Permission denied: Denied by intention default');
  assert.equal(denialFor(ID, 'keyWritePrefix', 'app/').message, `Permission denied: token with AccessorID '${ID}' lacks permission 'key:write' on "app/"`);
});

test('enforceResource maps resource and access like Consul\'s Enforce, case-insensitively', () => {
  const a = chainedAuthorizer([newPolicyAuthorizer([parseRules('key_prefix "" { policy = "list" }\nservice "web" { policy = "write" }')]), denyAll()]);
  assert.equal(enforceResource(a, 'key', 'x', 'LIST'), 'allow');
  assert.equal(enforceResource(a, 'key', 'x', 'write'), 'deny');
  assert.equal(enforceResource(a, 'key', 'x', 'write-prefix'), 'deny');
  assert.equal(enforceResource(a, 'service', 'web', 'write'), 'allow');
  assert.equal(enforceResource(a, 'intention', 'web', 'read'), 'allow');
  assert.equal(enforceResource(allowAll(), 'operator', '', 'write'), 'allow');
  assert.throws(() => enforceResource(a, 'bogus', '', 'read'), { message: 'Invalid ACL resource requested: "bogus"' });
  assert.throws(() => enforceResource(a, 'node', 'n', 'list'), { message: 'Invalid access level for node resource: list' });
});
