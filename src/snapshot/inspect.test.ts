// Snapshot inspect's record kinds by store key, tenancy records and tenant keys included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordType } from './inspect.ts';

test('record kinds by key: tenancy records, and a tenant key counts as its inner key', () => {
  assert.equal(recordType('kv/a'), 'KVS');
  assert.equal(recordType('acl/token/x'), 'ACLToken');
  assert.equal(recordType('tenancy/partition/default'), 'Partition');
  assert.equal(recordType('tenancy/namespace/default/default'), 'Namespace');
  assert.equal(recordType('t/default/team-1/kv/a'), 'KVS');
  assert.equal(recordType('t/na-west/default/catalog/node/n1'), 'Register');
  assert.equal(recordType('t/bad'), 't');
  // Intentions of the wildcard namespace (every namespace of a partition) are config entries too.
  assert.equal(recordType('config-ns-wildcard/service-intentions/*'), 'ConfigEntry');
  assert.equal(recordType('t/ap1/default/config-ns-wildcard/service-intentions/*'), 'ConfigEntry');
  // Virtual IPs: Consul's service-virtual-ips table, and its free-IP table that holds the counter too.
  assert.equal(recordType('vip/service/default/default/web'), 'ServiceVirtualIP');
  assert.equal(recordType('vip/free/00000001'), 'FreeVirtualIP');
  assert.equal(recordType('vip/counter'), 'FreeVirtualIP');
});
