// dns_config as the DNS transport reads it: service TTLs by exact name, longest `prefix*`, `*`,
// and else node_ttl, as Consul's DNS server picks a result's TTL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devConfig } from '../../test/support/agent.ts';
import { dnsConfigFrom, serviceTtl } from './config.ts';

const cfgWith = (dns: Record<string, unknown>) => dnsConfigFrom(devConfig({ raw: { dns_config: dns } }));

test('service TTL: exact name, else the longest prefix, else *, else node_ttl', () => {
  const cfg = cfgWith({ node_ttl: '3s', service_ttl: { 'd*': '42s', db: '10s', 'db*': '66s', '*': '5s' } });
  assert.equal(serviceTtl(cfg, 'db'), 10);
  assert.equal(serviceTtl(cfg, 'dblb'), 66);
  assert.equal(serviceTtl(cfg, 'dk'), 42);
  assert.equal(serviceTtl(cfg, 'api'), 5);
  const noWildcard = cfgWith({ node_ttl: '3s', service_ttl: { web: '9s' } });
  assert.equal(serviceTtl(noWildcard, 'web'), 9);
  assert.equal(serviceTtl(noWildcard, 'api'), 3, 'a service no service_ttl key matches has node_ttl');
  assert.equal(serviceTtl(cfgWith({ node_ttl: '7s' }), 'api'), 7);
  assert.equal(serviceTtl(cfgWith({}), 'api'), 0, 'both default to 0');
});
