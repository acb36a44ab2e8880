// ACL tables with namespaced records: a tenant's record (`t/<ap>/<ns>/acl/…`) joins the shared
// table with Namespace and Partition from its key (before its indexes), names are unique per
// tenant, auth methods of one name live side by side in two namespaces, and default-tenant
// records stay exactly as before tenancy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WatchEvent } from '../store/index.ts';
import { AclTables, aclEnt, aclInTenant, aclStoreKey, aclTenantApplier, ACL_POLICY_PREFIX } from './acl-tables.ts';
import { TenantTables } from './tenancy-tables.ts';

const utf8 = new TextEncoder();
let rev = 0;
function put(key: string, rec: object): WatchEvent {
  rev++;
  return { type: 'put', kv: { key, value: utf8.encode(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}
function del(key: string): WatchEvent {
  rev++;
  return { type: 'delete', kv: { key, value: new Uint8Array(0), createRevision: 0, modRevision: rev, version: 0, lease: 0 } };
}

function setup() {
  const acl = new AclTables();
  const tenants = new TenantTables().register(aclTenantApplier(acl));
  const out: string[] = [];
  return { acl, apply: (ev: WatchEvent) => (ev.kv.key.startsWith('t/') ? tenants.apply(ev, out) : acl.apply(ev)), out };
}

const teamA = { partition: 'default', namespace: 'team-a' };
const apB = { partition: 'ap-1', namespace: 'team-b' };

test('a namespaced policy gets its tenant from the key; names are unique per namespace', () => {
  const { acl, apply, out } = setup();
  apply(put('acl/policy/p1', { ID: 'p1', Name: 'Shared', Rules: '' }));
  apply(put('t/default/team-a/acl/policy/p2', { ID: 'p2', Name: 'shared', Rules: '' }));
  apply(put('t/ap-1/team-b/acl/policy/p3', { ID: 'p3', Name: 'SHARED', Rules: '' }));
  assert.deepEqual(out, ['acl-policies', 'p2', 'acl-policies', 'p3']);

  const p1 = acl.policies.get('p1')!;
  assert.deepEqual(Object.keys(p1), ['ID', 'Name', 'Rules', 'CreateIndex', 'ModifyIndex'], 'default records unchanged');
  const p2 = acl.policies.get('p2')!;
  assert.deepEqual(Object.keys(p2), ['ID', 'Name', 'Rules', 'Namespace', 'Partition', 'CreateIndex', 'ModifyIndex']);
  assert.deepEqual([p2.Namespace, p2.Partition], ['team-a', 'default']);
  assert.deepEqual(aclEnt(acl.policies.get('p3')!), apB);
  assert.equal(aclEnt(p1), undefined);

  assert.equal(acl.policies.by('shared')?.ID, 'p1');
  assert.equal(acl.policies.by('SHARED', teamA)?.ID, 'p2');
  assert.equal(acl.policies.by('shared', apB)?.ID, 'p3');
  assert.equal(acl.policies.by('shared', { partition: 'default', namespace: 'team-c' }), undefined);

  assert.ok(aclInTenant(p2, teamA) && !aclInTenant(p2, undefined) && !aclInTenant(p2, apB));
  assert.ok(aclInTenant(p2, { partition: 'default', namespace: '*' }) && !aclInTenant(p2, { partition: 'ap-1', namespace: '*' }));
  assert.ok(aclInTenant(p1, undefined) && aclInTenant(p1, { partition: 'default', namespace: '*' }));

  // A rename and a delete keep the tenant's index right and leave the others.
  apply(put('t/default/team-a/acl/policy/p2', { ID: 'p2', Name: 'renamed', Rules: '' }));
  assert.equal(acl.policies.by('shared', teamA), undefined);
  assert.equal(acl.policies.by('renamed', teamA)?.ID, 'p2');
  apply(del('t/default/team-a/acl/policy/p2'));
  assert.equal(acl.policies.get('p2'), undefined);
  assert.equal(acl.policies.by('renamed', teamA), undefined);
  assert.equal(acl.policies.by('shared')?.ID, 'p1');
  assert.equal(acl.index, rev);
});

test('auth methods of one name live in two namespaces; tokens are found by secret in any tenant', () => {
  const { acl, apply } = setup();
  apply(put('acl/auth-method/jwt', { Name: 'jwt', Type: 'jwt', Config: {} }));
  apply(put('t/default/team-a/acl/auth-method/jwt', { Name: 'jwt', Type: 'jwt', Config: { a: 1 } }));
  assert.equal(acl.authMethods.by('JWT')?.Config.a, undefined);
  assert.equal(acl.authMethods.by('jwt', teamA)?.Config.a, 1);
  assert.equal(acl.authMethods.get('jwt')?.Namespace, undefined);
  apply(del('t/default/team-a/acl/auth-method/jwt'));
  assert.equal(acl.authMethods.by('jwt', teamA), undefined);
  assert.ok(acl.authMethods.by('jwt'));

  apply(put('t/default/team-a/acl/token/a1', { AccessorID: 'a1', SecretID: 's1' }));
  assert.equal(acl.tokens.by('s1')?.Namespace, 'team-a', 'secrets are unique across tenants');
  assert.equal(aclStoreKey(ACL_POLICY_PREFIX, 'p9', teamA), 't/default/team-a/acl/policy/p9');
  assert.equal(aclStoreKey(ACL_POLICY_PREFIX, 'p9', undefined), 'acl/policy/p9');

  // A default key's record is the default tenant's whatever its value says.
  apply(put('acl/policy/p7', { ID: 'p7', Name: 'odd', Namespace: 'team-a', Partition: 'default' }));
  assert.equal(acl.policies.get('p7')?.Namespace, undefined);
  assert.equal(acl.policies.by('odd')?.ID, 'p7');
});
