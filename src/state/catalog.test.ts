// The catalog tables match names as Consul's lower-cased indexes do: node names, service names,
// service IDs and check IDs case-insensitively, with records keeping their stored spelling and
// the notifier keys of a service's and a node's views folded so every spelling wakes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogTables, checkKey, nodeKey, serviceKey, SERVICE_HEALTH, NODE_VIEW, CONNECT_HEALTH } from './catalog.ts';
import type { WatchEvent } from '../store/index.ts';

function put(key: string, rec: object, rev: number): WatchEvent {
  const value = Buffer.from(JSON.stringify(rec));
  return { type: 'put', kv: { key, value, createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}
function del(key: string, rev: number): WatchEvent {
  return { type: 'delete', kv: { key, value: Buffer.alloc(0), createRevision: 0, modRevision: rev, version: 0, lease: 0 } };
}
const node = (name: string) => ({ ID: '', Node: name, Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: null, Meta: null });
const service = (id: string, name: string, extra: object = {}) => ({ ID: id, Service: name, Tags: ['v1'], Port: 80, ...extra });
const check = (nodeName: string, id: string, sid: string, name: string) =>
  ({ Node: nodeName, CheckID: id, Name: id, Status: 'passing', ServiceID: sid, ServiceName: name });

test('node names, service IDs and check IDs resolve case-insensitively to their stored spelling', () => {
  const t = new CatalogTables();
  t.apply(put(nodeKey('Node-A'), node('Node-A'), 2));
  t.apply(put(nodeKey('node-b'), node('node-b'), 3));
  t.apply(put(serviceKey('Node-A', 'Web-1'), service('Web-1', 'Web'), 4));
  t.apply(put(checkKey('Node-A', 'Svc:Web'), check('Node-A', 'Svc:Web', 'Web-1', 'Web'), 5));
  assert.equal(t.node('node-a')?.Node, 'Node-A');
  assert.equal(t.node('NODE-B')?.Node, 'node-b');
  assert.equal(t.node('node-c'), undefined);
  assert.equal(t.nodeName('NODE-A'), 'Node-A');
  assert.equal(t.nodeName('Unknown'), 'Unknown');
  assert.equal(t.serviceId('Node-A', 'web-1'), 'Web-1');
  assert.equal(t.serviceId('Node-A', 'WEB-1'), 'Web-1');
  assert.equal(t.serviceId('Node-A', 'web-2'), 'web-2');
  assert.equal(t.checkId('Node-A', 'svc:web'), 'Svc:Web');
  assert.deepEqual(t.nodeChecks('node-a').map((c) => c.CheckID), ['Svc:Web']);
  // Deleting the stored spelling forgets the alias.
  t.apply(del(serviceKey('Node-A', 'Web-1'), 6));
  assert.equal(t.serviceId('Node-A', 'web-1'), 'web-1');
  t.apply(del(nodeKey('Node-A'), 7));
  assert.equal(t.node('node-a'), undefined);
});

test('service names match case-insensitively, keep their spellings, and fold the watch keys', () => {
  const t = new CatalogTables();
  t.apply(put(nodeKey('n1'), node('n1'), 2));
  t.apply(put(nodeKey('N2'), node('N2'), 3));
  const changes = t.apply(put(serviceKey('n1', 'web'), service('web', 'Web'), 4));
  assert.ok(changes.some(([table, key]) => table === SERVICE_HEALTH && key === 'web'), JSON.stringify(changes));
  assert.ok(changes.some(([table, key]) => table === NODE_VIEW && key === 'n1'));
  t.apply(put(serviceKey('N2', 'web'), service('web', 'web', { Tags: ['v2'] }), 5));
  for (const name of ['web', 'WEB', 'Web']) {
    assert.deepEqual(t.instances(name).map((i) => `${i.node.Node}/${i.service.Service}`), ['N2/web', 'n1/Web']);
  }
  assert.equal(t.serviceIndex.get('web'), 5);
  // catalog/services keeps each stored spelling apart, as Consul's Services does.
  assert.deepEqual(t.serviceTags('WEB'), [['Web', ['v1']], ['web', ['v2']]]);
  // A check change on a node spelled in capitals wakes the folded node view and service view.
  const checkChanges = t.apply(put(checkKey('N2', 'c'), check('N2', 'c', 'web', 'web'), 6));
  assert.ok(checkChanges.some(([table, key]) => table === NODE_VIEW && key === 'n2'), JSON.stringify(checkChanges));
  assert.ok(checkChanges.some(([table, key]) => table === SERVICE_HEALTH && key === 'web'));
  assert.equal(t.serviceIndex.get('web'), 6);
  t.apply(del(serviceKey('n1', 'web'), 7));
  assert.deepEqual(t.instances('WEB').map((i) => i.node.Node), ['N2']);
  t.apply(del(serviceKey('N2', 'web'), 8));
  assert.equal(t.byName.size, 0);
});

test('mesh destinations match case-insensitively and wake the folded connect key', () => {
  const t = new CatalogTables();
  t.apply(put(nodeKey('n1'), node('n1'), 2));
  const proxy = service('web-proxy', 'Web-Proxy', { Kind: 'connect-proxy', Proxy: { DestinationServiceName: 'Web' } });
  t.apply(put(serviceKey('n1', 'web-proxy'), proxy, 3));
  assert.deepEqual(t.instances('web', true).map((i) => i.service.ID), ['web-proxy']);
  const changes = t.apply(put(checkKey('n1', 'p'), check('n1', 'p', 'web-proxy', 'Web-Proxy'), 4));
  assert.ok(changes.some(([table, key]) => table === CONNECT_HEALTH && key === 'web'), JSON.stringify(changes));
  assert.equal(t.serviceIndex.get('connect:web'), 4);
});

test('nodeById finds a node by its ID (any case) and follows ID changes and deletes', () => {
  const t = new CatalogTables();
  const id = 'AB3C6E42-1B52-4A1B-9F0E-5C7D2A9E8F01';
  t.apply(put(nodeKey('Node-A'), { ...node('Node-A'), ID: id }, 2));
  assert.equal(t.nodeById(id.toLowerCase())?.Node, 'Node-A');
  assert.equal(t.nodeById(id)?.Node, 'Node-A');
  const other = '11111111-2222-3333-4444-555555555555';
  t.apply(put(nodeKey('Node-A'), { ...node('Node-A'), ID: other }, 3));
  assert.equal(t.nodeById(id), undefined, 'the old ID is forgotten');
  assert.equal(t.nodeById(other)?.Node, 'Node-A');
  t.apply(del(nodeKey('Node-A'), 4));
  assert.equal(t.nodeById(other), undefined);
  t.apply(put(nodeKey('n2'), { ...node('n2'), ID: other }, 5));
  t.reset();
  assert.equal(t.nodeById(other), undefined);
});

test('a stored KeptCreateIndex (values written by f05b630..88d8077) is dropped: indexes come from revisions only', () => {
  const t = new CatalogTables();
  const withKept = (rec: object) => ({ ...rec, KeptCreateIndex: 2 });
  t.apply(put(nodeKey('moved'), withKept(node('moved')), 7));
  t.apply(put(serviceKey('moved', 'Web-1'), withKept(service('Web-1', 'web')), 8));
  t.apply(put(checkKey('moved', 'web-check'), withKept(check('moved', 'web-check', 'Web-1', 'web')), 9));
  const got = [t.node('moved'), t.services.get('moved')?.get('Web-1'), t.checks.get('moved')?.get('web-check')];
  assert.deepEqual(got.map((r) => [r && 'KeptCreateIndex' in r, r?.CreateIndex, r?.ModifyIndex]), [[false, 7, 7], [false, 8, 8], [false, 9, 9]]);
});
