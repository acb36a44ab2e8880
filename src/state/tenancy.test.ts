// The tenancy key codec: default-tenant keys are untouched, tenant keys round-trip whatever the
// inner key holds (URI-encoded catalog parts, slashes, unicode), and malformed keys are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_ENT, entKey, isDefaultEnt, parseTenantKey, partitionEnt, tenantKey, tenantPrefix, tenantTableName, validTenancyName,
} from './tenancy.ts';

const team = { partition: 'default', namespace: 'team-1' };
const west = { partition: 'na-west', namespace: 'team-1' };

test('the default tenant keeps its keys, table names and has no prefix', () => {
  for (const ent of [undefined, DEFAULT_ENT, { partition: 'default', namespace: 'default' }, { partition: 'Default', namespace: 'DEFAULT' }]) {
    assert.equal(isDefaultEnt(ent), true);
    assert.equal(tenantKey(ent, 'kv/app/cfg'), 'kv/app/cfg');
    assert.equal(tenantTableName('kvs', ent), 'kvs');
  }
  assert.throws(() => tenantPrefix(DEFAULT_ENT));
  assert.equal(partitionEnt('DEFAULT'), DEFAULT_ENT);
  assert.deepEqual(partitionEnt('na-west'), { partition: 'na-west', namespace: 'default' });
});

test('tenant keys sit under t/<ap>/<ns>/ with folded names', () => {
  assert.equal(tenantKey(team, 'kv/app/cfg'), 't/default/team-1/kv/app/cfg');
  assert.equal(tenantKey({ partition: 'NA-West', namespace: 'Team-1' }, 'acl/token/x'), 't/na-west/team-1/acl/token/x');
  assert.equal(tenantPrefix(west), 't/na-west/team-1/');
  assert.equal(entKey({ partition: 'NA-West', namespace: 'Team-1' }), 'na-west/team-1');
  assert.equal(tenantTableName('kvs', west), 'kvs@na-west/team-1');
  assert.equal(isDefaultEnt(partitionEnt('na-west')), false);
});

test('tenantKey refuses names that would make keys ambiguous', () => {
  for (const bad of [{ partition: 'default', namespace: '*' }, { partition: 'a/b', namespace: 'x' }, { partition: 'p', namespace: '' }]) {
    assert.throws(() => tenantKey(bad, 'kv/a'), /invalid tenancy/);
  }
});

test('keys round-trip, inner keys byte for byte', () => {
  const inners = [
    'kv/app/cfg', 'kv/', 'kv//double//slash/', 'kv/t/default/team-1/kv/x', 'kv/%2F%25 spaced/ü/日本',
    `catalog/service/${encodeURIComponent('node/1')}/${encodeURIComponent('web 1%')}`,
    `catalog/check/${encodeURIComponent('n')}/${encodeURIComponent('service:web/1')}`, 'acl/token/0b7f…',
  ];
  for (const ent of [team, west, partitionEnt('na-west')]) {
    for (const inner of inners) {
      const key = tenantKey(ent, inner);
      assert.deepEqual(parseTenantKey(key), { ent: { partition: ent.partition, namespace: ent.namespace }, inner }, key);
    }
  }
  assert.deepEqual(parseTenantKey(tenantKey({ partition: 'P1', namespace: 'NS' }, 'kv/a')), { ent: { partition: 'p1', namespace: 'ns' }, inner: 'kv/a' });
});

test('malformed tenant keys are refused', () => {
  for (const key of [
    'kv/a', 'tenancy/namespace/default/x', 't', 't/', 't/default', 't/default/', 't/default/team-1', 't/default/team-1/',
    't//team-1/kv/a', 't/default//kv/a', 't/Default/team-1/kv/a', 't/default/Team-1/kv/a', 't/default/*/kv/a',
    't/-a/team-1/kv/a', 't/default/team_1/kv/a', `t/${'a'.repeat(64)}/x/kv/a`, 't/default/default/kv/a',
    't/p/n/t/q/m/kv/a',
  ]) {
    assert.equal(parseTenantKey(key), null, key);
  }
  assert.notEqual(parseTenantKey(`t/${'a'.repeat(63)}/x/kv/a`), null);
});

test('names are DNS labels', () => {
  for (const ok of ['default', 'team-1', 'A', '0', 'na-West-2', 'a'.repeat(63)]) assert.equal(validTenancyName(ok), true, ok);
  for (const bad of ['', '-a', 'a-', 'a_b', 'a.b', 'a/b', '*', 'é', 'a'.repeat(64), ' a']) assert.equal(validTenancyName(bad), false, bad);
});
