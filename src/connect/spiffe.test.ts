import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentUri, parseServiceUri, serviceUri } from './spiffe.ts';

test('service SPIFFE IDs: written as Consul writes them and read back; other IDs are not services', () => {
  const id = { host: 'abc.consul', namespace: 'default', datacenter: 'dc1', service: 'web' };
  assert.equal(serviceUri(id), 'spiffe://abc.consul/ns/default/dc/dc1/svc/web');
  assert.deepEqual(parseServiceUri(serviceUri(id)), id);
  assert.equal(parseServiceUri('spiffe://abc.consul/agent/client/dc/dc1/id/n1'), null);
  assert.equal(parseServiceUri('spiffe://abc.consul/ns/default/dc/dc1/svc/'), null);
  assert.equal(parseAgentUri(serviceUri(id)), null);
});

test('service SPIFFE IDs in a partition: /ap/<ap>/ns/… only outside the default partition (uri_service.go)', () => {
  const id = { host: 'abc.consul', partition: 'p1', namespace: 'team-a', datacenter: 'dc1', service: 'web' };
  assert.equal(serviceUri(id), 'spiffe://abc.consul/ap/p1/ns/team-a/dc/dc1/svc/web');
  assert.deepEqual(parseServiceUri(serviceUri(id)), id);
  assert.equal(serviceUri({ ...id, partition: 'default' }), 'spiffe://abc.consul/ns/team-a/dc/dc1/svc/web');
  assert.deepEqual(parseServiceUri('spiffe://abc.consul/ns/team-a/dc/dc1/svc/web'), { host: 'abc.consul', namespace: 'team-a', datacenter: 'dc1', service: 'web' });
  assert.equal(parseServiceUri('spiffe://abc.consul/ap/p1/dc/dc1/svc/web'), null);
});

test('a malformed percent-escape is no SPIFFE ID (it threw URIError: a 500 from connect authorize)', () => {
  for (const uri of ['spiffe://a.consul/ns/%zz/dc/dc1/svc/web', 'spiffe://a.consul/ap/%E0%A4/ns/default/dc/dc1/svc/web', 'spiffe://a.consul/ns/default/dc/dc1/svc/w%']) {
    assert.equal(parseServiceUri(uri), null, uri);
  }
  assert.equal(parseAgentUri('spiffe://a.consul/agent/client/dc/dc1/id/%zz'), null);
  assert.deepEqual(parseServiceUri('spiffe://a.consul/ns/team%2Da/dc/dc1/svc/web')?.namespace, 'team-a');
});
