// The catalog tables of namespaces: a namespace's services and checks in their own tables over the
// partition's nodes, their notifier keys renamed to the tenant's, node-level changes waking every
// namespace's services on the node, and a reset dropping them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchEvent } from '../store/index.ts';
import { CatalogTables, checkKey, nodeKey, serviceKey } from './catalog.ts';
import { catalogOf, catalogTenantApplier, namespaceCatalogs } from './catalog-tenants.ts';
import { TenantTables } from './tenancy-tables.ts';
import { tenantKey } from './tenancy.ts';
import { namespaceKey } from './tenancy-tables.ts';

const teamA = { partition: 'default', namespace: 'team-a' };
const teamB = { partition: 'default', namespace: 'team-b' };

function put(key: string, rec: object, rev: number): WatchEvent {
  return { type: 'put', kv: { key, value: Buffer.from(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}
const node = (name: string) => ({ ID: '', Node: name, Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: null, Meta: null });
const service = (id: string, name: string) => ({ ID: id, Service: name, Tags: [], Port: 80 });
const check = (n: string, id: string, sid: string, status = 'passing') => ({ Node: n, CheckID: id, Name: id, Status: status, ServiceID: sid, ServiceName: sid ? 'web' : '' });

function setup() {
  const catalog = new CatalogTables();
  const tenants = new TenantTables();
  tenants.register(catalogTenantApplier(tenants, catalog));
  const replica = { catalog, tenants };
  // What the replica does with a default-tenant catalog event, and with a tenant one.
  const apply = (ev: WatchEvent): string[] => {
    const out: string[] = [];
    if (ev.kv.key.startsWith('t/')) tenants.apply(ev, out);
    else catalog.applyInto(ev, out);
    return out;
  };
  return { catalog, tenants, replica, apply };
}

test('a namespace\'s services live in its own tables over the partition\'s nodes, with renamed notifier keys', () => {
  const { catalog, replica, apply } = setup();
  assert.equal(catalog.nodeListener, undefined, 'no listener before a namespace has records');
  apply(put(nodeKey('n1'), node('n1'), 2));
  apply(put(serviceKey('n1', 'web-1'), service('web-1', 'web'), 3));
  const out = apply(put(tenantKey(teamA, serviceKey('n1', 'web-1')), service('web-1', 'web'), 4));
  assert.deepEqual(out, ['services@default/team-a', 'n1', 'node-view@default/team-a', 'n1', 'service-health@default/team-a', 'web']);
  assert.notEqual(catalog.nodeListener, undefined);

  const a = catalogOf(replica, teamA);
  assert.notEqual(a, catalog);
  assert.equal(a.nodes, catalog.nodes, 'nodes are the partition\'s');
  assert.deepEqual(a.instances('web').map((i) => [i.node.Node, i.service.ID, i.service.Port]), [['n1', 'web-1', 80]]);
  assert.equal(catalog.instances('web').length, 1, 'the default namespace keeps its own instance');
  assert.equal(catalogOf(replica, teamB).instances('web').length, 0);
  assert.equal(catalogOf(replica, undefined), catalog);
  assert.deepEqual(namespaceCatalogs(replica, 'default').map((e) => e.ent.namespace), ['team-a']);
  assert.equal(a.node('N1')?.Node, 'n1', 'node names resolve through the partition');
});

test('a node check, or the node itself, wakes every namespace\'s services on the node and reaches their checks', () => {
  const { replica, apply } = setup();
  apply(put(nodeKey('n1'), node('n1'), 2));
  apply(put(tenantKey(teamA, serviceKey('n1', 'web-1')), service('web-1', 'web'), 3));
  apply(put(tenantKey(teamA, checkKey('n1', 'svc')), check('n1', 'svc', 'web-1'), 4));
  const out = apply(put(checkKey('n1', 'serfHealth'), check('n1', 'serfHealth', '', 'critical'), 5));
  assert.ok(out.join(' ').includes('service-health@default/team-a web'), out.join(' '));
  const a = catalogOf(replica, teamA);
  assert.equal(a.serviceIndex.get('web'), 5);
  const csn = a.checkServiceNode(a.instances('web')[0]);
  assert.deepEqual(csn.Checks.map((c) => [c.CheckID, c.Status]), [['serfHealth', 'critical'], ['svc', 'passing']]);
  assert.deepEqual(a.nodeChecks('n1').map((c) => c.CheckID), ['svc'], 'a namespace holds only its own checks');
  const nodeOut = apply(put(nodeKey('n1'), { ...node('n1'), Address: '10.0.0.2' }, 6));
  assert.ok(nodeOut.join(' ').includes('service-health@default/team-a web'));
});

test('a reset drops the namespaces\' tables and the partition\'s listener; the default tables keep their nodes', () => {
  const { catalog, tenants, replica, apply } = setup();
  apply(put(nodeKey('n1'), node('n1'), 2));
  apply(put(tenantKey(teamA, serviceKey('n1', 'web-1')), service('web-1', 'web'), 3));
  tenants.reset();
  assert.equal(catalog.nodeListener, undefined);
  assert.deepEqual(namespaceCatalogs(replica, 'default'), []);
  assert.equal(catalog.nodes.size, 1);
  assert.equal(catalogOf(replica, teamA).instances('web').length, 0);
});

test('the empty tables of deleted namespaces are dropped when another namespace\'s are made', () => {
  const { tenants, replica, apply } = setup();
  const del = (key: string, rev: number): WatchEvent => ({ type: 'delete', kv: { key, value: Buffer.alloc(0), createRevision: 0, modRevision: rev, version: 0, lease: 0 } });
  let rev = 2;
  apply(put(nodeKey('n1'), node('n1'), rev++));
  const live = { partition: 'default', namespace: 'live' };
  tenants.namespaces.apply(put(namespaceKey(live), { Name: 'live' }, rev++));
  apply(put(tenantKey(live, serviceKey('n1', 'x')), service('x', 'x'), rev++));
  apply(del(tenantKey(live, serviceKey('n1', 'x')), rev++));
  // Records without a namespace record (written before it, or orphans) are kept while they hold anything.
  apply(put(tenantKey(teamA, serviceKey('n1', 'web-1')), service('web-1', 'web'), rev++));
  for (let i = 0; i < 20; i++) {
    const ent = { partition: 'default', namespace: `churn-${i}` };
    tenants.namespaces.apply(put(namespaceKey(ent), { Name: ent.namespace }, rev++));
    apply(put(tenantKey(ent, serviceKey('n1', 'web-1')), service('web-1', 'web'), rev++));
    // The reaper's purge, then the record's delete.
    apply(del(tenantKey(ent, serviceKey('n1', 'web-1')), rev++));
    tenants.namespaces.apply(del(namespaceKey(ent), rev++));
  }
  const left = namespaceCatalogs(replica, 'default').map((e) => e.ent.namespace).sort();
  assert.deepEqual(left, ['churn-19', 'live', 'team-a'], 'live namespaces, non-empty tables and the last purged one');
  assert.equal(catalogOf(replica, teamA).instances('web').length, 1);
});

test('in another partition, a node check wakes its namespaces\' services under their own notifier tables', () => {
  const { apply } = setup();
  const p1 = { partition: 'p1', namespace: 'default' };
  const p1a = { partition: 'p1', namespace: 'team-a' };
  apply(put(tenantKey(p1, nodeKey('n1')), node('n1'), 2));
  apply(put(tenantKey(p1a, serviceKey('n1', 'web-1')), service('web-1', 'web'), 3));
  const out = apply(put(tenantKey(p1, checkKey('n1', 'serfHealth')), check('n1', 'serfHealth', '', 'critical'), 4));
  const pairs: string[] = [];
  for (let i = 0; i < out.length; i += 2) pairs.push(`${out[i]} ${out[i + 1]}`);
  assert.ok(pairs.includes('service-health@p1/team-a web'), pairs.join(', '));
  assert.ok(pairs.includes('checks@p1/default n1'), pairs.join(', '));
});
