// Router and resolver validation texts (Consul's Validate of the discovery chain kinds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfigEntry, decodeConfigEntry } from './config-entries.ts';

const check = (raw: Record<string, unknown>): string | null => {
  const e = decodeConfigEntry(raw);
  return checkConfigEntry(String(e.Kind), e);
};

test('router: paths, headers, query params, methods, prefix rewrite, retry conditions', () => {
  const route = (r: unknown) => check({ Kind: 'service-router', Name: 'web', Routes: [r] });
  assert.equal(route({ Match: { HTTP: { PathPrefix: 'admin' } } }), `Route[0] PathPrefix doesn't start with '/': "admin"`);
  assert.equal(route({ Match: { HTTP: { path_exact: 'x' } } }), `Route[0] PathExact doesn't start with '/': "x"`);
  assert.equal(route({ Match: { HTTP: { PathPrefix: '/a', PathRegex: '.*' } } }), 'Route[0] should only contain at most one of PathExact, PathPrefix, or PathRegex');
  assert.equal(route({ Match: { HTTP: { Header: [{ Exact: 'x' }] } } }), 'Route[0] Header[0] missing required Name field');
  assert.equal(route({ Match: { HTTP: { Header: [{ Name: 'x' }] } } }), 'Route[0] Header[0] should only contain one of Present, Exact, Prefix, Suffix, or Regex');
  assert.equal(route({ Match: { HTTP: { QueryParam: [{ Name: 'x', Present: true, Exact: 'y' }] } } }), 'Route[0] QueryParam[0] should only contain one of Present, Exact, or Regex');
  assert.equal(route({ Match: { HTTP: { Methods: ['get', 'GET'] } } }), 'Route[0] Methods contains "GET" more than once');
  assert.equal(route({ Match: { HTTP: { Methods: ['FETCH'] } } }), 'Route[0] Methods contains an invalid method "FETCH"');
  assert.equal(route({ Destination: { PrefixRewrite: '/' } }), 'Route[0] cannot make use of PrefixRewrite without configuring either PathExact or PathPrefix');
  assert.equal(route({ Destination: { RetryOn: ['sometimes'] } }), 'Route[0] contains an invalid retry condition: "sometimes"');
  assert.equal(route({ Match: { HTTP: { PathPrefix: '/a', Methods: ['get'] } }, Destination: { Service: 'x', RetryOn: ['5xx'] } }), null);
});

test('resolver: redirect and failover rules, timeouts, load balancer', () => {
  const r = (extra: Record<string, unknown>) => check({ Kind: 'service-resolver', Name: 'web', ...extra });
  assert.equal(r({ Redirect: {} }), 'Redirect is empty');
  assert.equal(r({ Redirect: { Service: 'a' }, Failover: { '*': { Service: 'b' } } }), 'Redirect and Failover cannot both be set');
  assert.equal(r({ Redirect: { ServiceSubset: 'v1' } }), 'Redirect.ServiceSubset defined without Redirect.Service');
  assert.equal(r({ Redirect: { Service: 'web', ServiceSubset: 'v9' } }), 'Redirect.ServiceSubset "v9" is not a valid subset of "web"');
  assert.equal(r({ Failover: { v1: { Service: 'b' } } }), 'Bad Failover["v1"]: not a valid subset subset');
  assert.equal(r({ Failover: { '*': {} } }), 'Bad Failover["*"]: one of Service, ServiceSubset, Namespace, Targets, or Datacenters is required');
  assert.equal(r({ Failover: { '*': { Datacenters: ['dc2'], Targets: [{ Datacenter: 'dc3' }] } } }), 'Bad Failover["*"]: Targets cannot be set with Datacenters');
  assert.equal(r({ Failover: { '*': { Targets: [{ Partition: 'p', Datacenter: 'dc3' }] } } }), 'Bad Failover["*"].Targets[0]: Partition cannot be set with Datacenter');
  assert.equal(r({ Failover: { '*': { Datacenters: [''] } } }), 'Bad Failover["*"].Datacenters: found empty datacenter');
  assert.equal(r({ Failover: { '*': { Service: 'b', Policy: { Mode: 'random' } } } }), `Bad Failover["*"]: Policy must be one of '', 'default', or 'order-by-locality'`);
  assert.equal(r({ LoadBalancer: { Policy: 'fastest' } }), 'Bad LoadBalancer policy: "fastest" is not supported');
  assert.equal(r({ LoadBalancer: { Policy: 'random', HashPolicies: [{ Field: 'header', FieldValue: 'x' }] } }), 'Bad LoadBalancer configuration: HashPolicies specified for non-hash-based Policy: "random"');
  assert.equal(r({ LoadBalancer: { Policy: 'ring_hash', HashPolicies: [{ Field: 'header' }] } }), 'Bad LoadBalancer HashPolicy[0]: Field "header" was specified without a FieldValue');
  assert.equal(r({ ConnectTimeout: '-1s' }), "Bad ConnectTimeout '-1s', must be >= 0");
  assert.equal(r({ Failover: { '*': { Datacenters: ['dc2'] } }, ConnectTimeout: '3s' }), null);
});
