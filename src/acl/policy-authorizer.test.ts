import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Authorizer } from './authorizer.ts';
import { parseRules } from './rules.ts';
import { newPolicyAuthorizer } from './scoped-authorizer.ts';

const authz = (...rules: string[]): Authorizer => newPolicyAuthorizer(rules.map(parseRules));

// Each segmented resource with its HCL block and its read/write methods.
const KINDS: Array<[string, keyof Authorizer, keyof Authorizer]> = [
  ['agent', 'agentRead', 'agentWrite'],
  ['event', 'eventRead', 'eventWrite'],
  ['identity', 'identityRead', 'identityWrite'],
  ['key', 'keyRead', 'keyWrite'],
  ['node', 'nodeRead', 'nodeWrite'],
  ['query', 'preparedQueryRead', 'preparedQueryWrite'],
  ['service', 'serviceRead', 'serviceWrite'],
  ['session', 'sessionRead', 'sessionWrite'],
];

type Named = (name: string) => string;
const call = (a: Authorizer, m: keyof Authorizer, name: string) => (a[m] as unknown as Named)(name);

test('precedence table: exact beats longest prefix, longest prefix beats shorter, for every kind', () => {
  for (const [kind, read, write] of KINDS) {
    const a = authz(`
${kind}_prefix "" { policy = "read" }
${kind}_prefix "app" { policy = "write" }
${kind}_prefix "app-secret" { policy = "deny" }
${kind} "app-secret-ok" { policy = "read" }
${kind} "app" { policy = "deny" }
`);
    const rows: Array<[string, string, string]> = [
      // segment, read, write
      ['other', 'allow', 'deny'], // "" prefix: read
      ['app-1', 'allow', 'allow'], // "app" prefix: write
      ['app', 'deny', 'deny'], // exact "app" deny beats prefix "app" write
      ['app-secret-x', 'deny', 'deny'], // longer prefix deny
      ['app-secret-ok', 'allow', 'deny'], // exact read beats the deny prefix
      ['app-secret-ok2', 'deny', 'deny'], // exact rules match only exactly
    ];
    for (const [segment, r, w] of rows) {
      assert.equal(call(a, read, segment), r, `${kind} read ${segment}`);
      assert.equal(call(a, write, segment), w, `${kind} write ${segment}`);
    }
  }
});

test('no rule means default, for every kind and scalar', () => {
  const a = authz('');
  for (const [, read, write] of KINDS) {
    assert.equal(call(a, read, 'x'), 'default');
    assert.equal(call(a, write, 'x'), 'default');
  }
  for (const m of ['aclRead', 'aclWrite', 'keyringRead', 'keyringWrite', 'operatorRead', 'operatorWrite', 'meshRead', 'meshWrite', 'peeringRead', 'peeringWrite', 'snapshot', 'intentionDefaultAllow'] as const) {
    assert.equal(a[m](), 'default', m);
  }
});

test('scalar resources: write grants read, read denies write, deny denies both', () => {
  for (const scalar of ['acl', 'keyring', 'operator', 'mesh', 'peering'] as const) {
    const cap = scalar[0].toUpperCase() + scalar.slice(1);
    const r = `${scalar}Read` as 'aclRead';
    const w = `${scalar}Write` as 'aclWrite';
    assert.equal(authz(`${scalar} = "write"`)[r](), 'allow', cap);
    assert.equal(authz(`${scalar} = "write"`)[w](), 'allow', cap);
    assert.equal(authz(`${scalar} = "read"`)[r](), 'allow', cap);
    assert.equal(authz(`${scalar} = "read"`)[w](), 'deny', cap);
    assert.equal(authz(`${scalar} = "deny"`)[r](), 'deny', cap);
  }
  assert.equal(authz('acl = "write"').snapshot(), 'allow');
  assert.equal(authz('acl = "read"').snapshot(), 'deny');
});

test('mesh and peering fall back to operator when unset', () => {
  const a = authz('operator = "write"');
  assert.equal(a.meshWrite(), 'allow');
  assert.equal(a.peeringWrite(), 'allow');
  const b = authz('operator = "write"\nmesh = "read"\npeering = "deny"');
  assert.equal(b.meshRead(), 'allow');
  assert.equal(b.meshWrite(), 'deny');
  assert.equal(b.peeringRead(), 'deny');
});

test('list on keys: list grants list and read, not write; read does not grant list', () => {
  const a = authz('key_prefix "app/" { policy = "list" }\nkey_prefix "ro/" { policy = "read" }\nkey_prefix "rw/" { policy = "write" }');
  assert.equal(a.keyList('app/'), 'allow');
  assert.equal(a.keyRead('app/x'), 'allow');
  assert.equal(a.keyWrite('app/x'), 'deny');
  assert.equal(a.keyList('ro/'), 'deny');
  assert.equal(a.keyRead('ro/x'), 'allow');
  assert.equal(a.keyList('rw/'), 'allow');
  assert.equal(a.keyList('none/'), 'default');
});

test('keyWritePrefix needs write on the prefix and on every rule beneath it', () => {
  const a = authz('key_prefix "" { policy = "write" }\nkey_prefix "app/locked/" { policy = "read" }\nkey "app2/one" { policy = "deny" }');
  assert.equal(a.keyWritePrefix('app/'), 'deny', 'a read rule beneath');
  assert.equal(a.keyWritePrefix('app/free/'), 'allow');
  assert.equal(a.keyWritePrefix('app2/'), 'deny', 'an exact deny beneath');
  assert.equal(a.keyWritePrefix(''), 'deny');
  const b = authz('key "x/a" { policy = "write" }');
  assert.equal(b.keyWritePrefix('x/'), 'default', 'no governing prefix rule');
  assert.equal(authz('key_prefix "x/" { policy = "read" }').keyWritePrefix('x/y'), 'deny');
});

test('serviceReadAll/nodeReadAll need nothing denying read; serviceWriteAny needs some write', () => {
  assert.equal(authz('service_prefix "" { policy = "read" }').serviceReadAll(), 'allow');
  assert.equal(authz('service_prefix "" { policy = "read" }\nservice "secret" { policy = "deny" }').serviceReadAll(), 'deny');
  assert.equal(authz('service "web" { policy = "read" }').serviceReadAll(), 'default');
  assert.equal(authz('node_prefix "" { policy = "write" }').nodeReadAll(), 'allow');
  assert.equal(authz('service "web" { policy = "write" }').serviceWriteAny(), 'allow');
  assert.equal(authz('service_prefix "" { policy = "deny" }').serviceWriteAny(), 'deny');
  assert.equal(authz('service_prefix "" { policy = "deny" }\nservice "x" { policy = "write" }').serviceWriteAny(), 'allow');
  assert.equal(authz('service "web" { policy = "read" }').serviceWriteAny(), 'default');
  assert.equal(authz('identity "w" { policy = "write" }').identityWriteAny(), 'allow');
  assert.equal(authz('identity_prefix "" { policy = "read" }').identityReadAll(), 'allow');
});

test('intentions follow the service policy unless set: read/write grant intention read, deny denies', () => {
  const a = authz('service "web" { policy = "write" }\nservice "db" { policy = "read"\n intentions = "write" }\nservice "x" { policy = "deny" }');
  assert.equal(a.intentionRead('web'), 'allow');
  assert.equal(a.intentionWrite('web'), 'deny');
  assert.equal(a.intentionWrite('db'), 'allow');
  assert.equal(a.intentionRead('x'), 'deny');
  assert.equal(a.intentionRead('nope'), 'default');
  // `*`: read if any rule grants it, write only if nothing withholds it
  assert.equal(a.intentionRead('*'), 'allow');
  assert.equal(a.intentionWrite('*'), 'deny');
  assert.equal(authz('service_prefix "" { policy = "write"\n intentions = "write" }').intentionWrite('*'), 'allow');
  assert.equal(a.intentionDefaultAllow(), 'default');
});

test('identity intentions govern traffic permissions', () => {
  const a = authz('identity "api" { policy = "write" }\nidentity "db" { policy = "read"\n intentions = "write" }');
  assert.equal(a.trafficPermissionsRead('api'), 'allow');
  assert.equal(a.trafficPermissionsWrite('api'), 'deny');
  assert.equal(a.trafficPermissionsWrite('db'), 'allow');
});

test('services and nodes imported from a peer: any service write or read-all allows', () => {
  const svc = authz('service "local" { policy = "write" }');
  assert.equal(svc.serviceRead('remote', { peer: 'p1' }), 'allow');
  assert.equal(svc.nodeRead('n', { peer: 'p1' }), 'allow');
  const reader = authz('service "remote" { policy = "read" }');
  assert.equal(reader.serviceRead('remote'), 'allow');
  assert.equal(reader.serviceRead('remote', { peer: 'p1' }), 'default', 'exact read is not read-all');
  assert.equal(authz('node_prefix "" { policy = "read" }').nodeRead('n', { peer: 'p1' }), 'allow');
});
