// The catalog's running usage counts follow puts, kind changes, renames and deletes as Consul's
// usage table does: mesh kinds counted apart, connect-native and typical instances billable, the
// `consul` service not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogTables, nodeKey, serviceKey } from './catalog.ts';
import type { WatchEvent } from '../store/index.ts';

function put(key: string, rec: object, rev: number): WatchEvent {
  return { type: 'put', kv: { key, value: Buffer.from(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}
function del(key: string, rev: number): WatchEvent {
  return { type: 'delete', kv: { key, value: Buffer.alloc(0), createRevision: 0, modRevision: rev, version: 0, lease: 0 } };
}
const node = (name: string) => ({ ID: '', Node: name, Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: null, Meta: null });
const svc = (id: string, name: string, extra: object = {}) => ({ ID: id, Service: name, Tags: [], Port: 80, ...extra });
const report = (t: CatalogTables) => t.usage.report(t.byName.size, t.nodes.size);

test('usage counts instances by kind and billability, and follow changes and deletes', () => {
  const t = new CatalogTables();
  t.apply(put(nodeKey('n1'), node('n1'), 2));
  t.apply(put(nodeKey('n2'), node('n2'), 3));
  t.apply(put(serviceKey('n1', 'consul'), svc('consul', 'consul'), 4));
  t.apply(put(serviceKey('n1', 'web'), svc('web', 'web'), 5));
  t.apply(put(serviceKey('n2', 'web'), svc('web', 'Web'), 6));
  t.apply(put(serviceKey('n1', 'web-proxy'), svc('web-proxy', 'web-sidecar-proxy', { Kind: 'connect-proxy', Proxy: { DestinationServiceName: 'web' } }), 7));
  t.apply(put(serviceKey('n2', 'native'), svc('native', 'native', { Connect: { Native: true } }), 8));
  t.apply(put(serviceKey('n2', 'gw'), svc('gw', 'gw', { Kind: 'mesh-gateway' }), 9));
  assert.deepEqual(report(t), {
    Services: 5, ServiceInstances: 6, BillableServiceInstances: 3, Nodes: 2,
    ConnectServiceInstances: {
      'connect-proxy': 1, 'ingress-gateway': 0, 'mesh-gateway': 1, 'terminating-gateway': 0, 'api-gateway': 0, 'connect-native': 1,
    },
  });
  // A re-registration that turns the gateway into a typical service moves it between counts.
  t.apply(put(serviceKey('n2', 'gw'), svc('gw', 'gw'), 10));
  let r = report(t);
  assert.equal(r.ConnectServiceInstances['mesh-gateway'], 0);
  assert.equal(r.BillableServiceInstances, 4);
  assert.equal(r.ServiceInstances, 6);
  t.apply(del(serviceKey('n1', 'web'), 11));
  t.apply(del(serviceKey('n2', 'native'), 12));
  r = report(t);
  assert.equal(r.ServiceInstances, 4);
  assert.equal(r.Services, 4); // `Web` on n2 still holds the name
  assert.equal(r.BillableServiceInstances, 2);
  assert.equal(r.ConnectServiceInstances['connect-native'], 0);
  t.reset();
  assert.deepEqual(report(t).ServiceInstances, 0);
});
