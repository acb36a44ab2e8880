import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeIntentions, validateIntentions } from './config-entry-intentions.ts';

type Obj = Record<string, unknown>;
const checked = (e: Obj, legacy = false): string | null => {
  normalizeIntentions(e, legacy);
  return validateIntentions(e, legacy);
};

test('normalize: type defaulted, precedence from destination and source, methods upper-cased, highest first', () => {
  const e: Obj = {
    Name: '*', Sources: [
      { Name: '*', Action: 'DENY' },
      { Name: 'web', Action: 'allow', LegacyID: 'x' },
    ],
  };
  assert.equal(checked(e), null);
  assert.deepEqual(e.Sources, [
    { Name: 'web', Action: 'allow', Type: 'consul', Precedence: 6 },
    { Name: '*', Action: 'deny', Type: 'consul', Precedence: 5 },
  ]);
  const l7: Obj = { Name: 'db', Sources: [{ Name: 'web', Permissions: [{ Action: 'allow', HTTP: { Methods: ['get'] } }] }] };
  assert.equal(checked(l7), null);
  assert.deepEqual(((l7.Sources as Obj[])[0].Permissions as Obj[])[0], { Action: 'allow', HTTP: { Methods: ['GET'] } });
});

test("validate with Consul's texts", () => {
  const one = (src: Obj, name = 'db') => checked({ Name: name, Sources: [src] });
  assert.equal(checked({ Name: 'db', Sources: [] }), 'At least one source is required');
  assert.equal(checked({ Name: 'd*', Sources: [{ Name: 'a', Action: 'allow' }] }), "Name: wildcard character '*' cannot be used with partial values");
  assert.equal(one({ Name: 'w*b', Action: 'allow' }), "Sources[0].Name: wildcard character '*' cannot be used with partial values");
  assert.equal(one({ Name: 'web' }), "Sources[0].Action must be set to 'allow' or 'deny'");
  assert.equal(one({ Name: 'web', Action: 'allow', Type: 'external' }), "Sources[0].Type must be set to 'consul'");
  assert.equal(one({ Name: 'web', Action: 'allow', LegacyID: 'x', LegacyMeta: { a: 'b' } }), 'Sources[0].LegacyMeta must be omitted');
  assert.equal(
    one({ Name: 'web', Permissions: [{ Action: 'allow', HTTP: { PathPrefix: '/' } }] }, '*'),
    'Sources[0].Permissions cannot be specified on intentions with wildcarded destinations',
  );
  assert.equal(one({ Name: 'web', Action: 'allow', Permissions: [{ Action: 'allow', HTTP: { PathExact: '/' } }] }), 'Sources[0].Action must be omitted if Permissions are specified');
  assert.equal(one({ Name: 'web', Permissions: [{ Action: 'allow', HTTP: {} }] }), 'Sources[0].Permissions[0].HTTP should not be empty');
  assert.equal(one({ Name: 'web', Permissions: [{ Action: 'allow', HTTP: { PathPrefix: 'x' } }] }), `Sources[0].Permissions[0].HTTP.PathPrefix doesn't start with '/': "x"`);
  assert.equal(one({ Name: 'web', Permissions: [{ Action: 'allow', HTTP: { Methods: ['GET', 'get'] } }] }), 'Sources[0].Permissions[0].HTTP.Methods contains "GET" more than once');
  assert.equal(
    checked({ Name: 'db', Sources: [{ Name: 'web', Action: 'allow' }, { Name: 'web', Action: 'deny' }] }),
    'Sources[1] defines "web" more than once',
  );
  assert.equal(checked({ Name: 'db', Meta: { a: 'b' }, Sources: [{ Name: 'web', Action: 'allow' }] }), null);
});

test('legacy writes keep their IDs and need times; entry meta is refused', () => {
  const src = { Name: 'web', Action: 'allow', LegacyID: 'id1', LegacyCreateTime: 't', LegacyUpdateTime: 't' };
  const e: Obj = { Name: 'db', Sources: [{ ...src }] };
  assert.equal(checked(e, true), null);
  assert.equal((e.Sources as Obj[])[0].LegacyID, 'id1');
  assert.deepEqual((e.Sources as Obj[])[0].LegacyMeta, {});
  assert.equal(checked({ Name: 'db', Meta: { a: 'b' }, Sources: [{ ...src }] }, true), 'Meta must be omitted for legacy intention writes');
  assert.equal(checked({ Name: 'db', Sources: [{ ...src, LegacyCreateTime: undefined }] }, true), 'Sources[0].LegacyCreateTime must be set');
});

test('namespaces: sources inherit the destination\'s tenant, stored only when not default; wildcard texts', () => {
  const team = { partition: 'default', namespace: 'team' };
  const e: Obj = { Name: 'db', Sources: [
    { Name: 'web', Action: 'allow' },
    { Name: 'api', Namespace: 'default', Action: 'allow' },
    { Name: '*', Namespace: '*', Action: 'deny' },
    { Name: 'x', Peer: 'p1', Action: 'allow' },
  ] };
  normalizeIntentions(e, false, team);
  assert.equal(validateIntentions(e, false, team), null);
  assert.deepEqual((e.Sources as Obj[]).map((s) => [s.Name, s.Namespace, s.Partition, s.Precedence]), [
    ['web', 'team', undefined, 9], ['api', undefined, undefined, 9], ['x', undefined, undefined, 9], ['*', '*', undefined, 7],
  ]);
  // A default-tenant entry keeps exactly the form it had before namespaces.
  const plain: Obj = { Name: 'db', Sources: [{ Name: 'web', Namespace: 'default', Partition: 'default', Action: 'allow' }] };
  normalizeIntentions(plain);
  assert.deepEqual(plain.Sources, [{ Name: 'web', Action: 'allow', Type: 'consul', Precedence: 9 }]);

  const one = (src: Obj, ent?: { partition: string; namespace: string }) => {
    const x: Obj = { Name: 'db', Sources: [src] };
    normalizeIntentions(x, false, ent);
    return validateIntentions(x, false, ent);
  };
  assert.equal(one({ Name: 'web', Namespace: '*', Action: 'allow' }), 'Sources[0].Name: exact value cannot follow wildcard namespace');
  assert.equal(one({ Name: 'web', Namespace: 'te*m', Action: 'allow' }), "Sources[0].Namespace: wildcard character '*' cannot be used with partial values");
  assert.equal(one({ Name: 'web', Partition: '*', Action: 'allow' }), "Sources[0].Partition: cannot use wildcard '*' in partition");
  assert.equal(one({ Name: 'web', Peer: 'p', Partition: 'ap1', Action: 'allow' }), 'Sources[0].Peer: cannot set Peer and Partition at the same time.');
  assert.equal(one({ Name: 'web', Action: 'allow' }, { partition: 'default', namespace: '*' }), 'Name: exact value cannot follow wildcard namespace');
  // The same name in two namespaces is two sources.
  const two: Obj = { Name: 'db', Sources: [{ Name: 'web', Action: 'allow' }, { Name: 'web', Namespace: 'team', Action: 'deny' }] };
  normalizeIntentions(two);
  assert.equal(validateIntentions(two), null);
});
