// The resolved exports: services sorted by name with their peers sorted and de-duplicated, `*`
// expanded to the typical services of the catalog, sameness groups to their member peers and partitions, and
// the `consul` service never exported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { CatalogTables, ConfigEntriesTable, Notifier, configEntryKey, nodeKey, serviceKey } from '../state/index.ts';
import type { WatchEvent } from '../store/index.ts';
import { defaultQueryOptions } from './query.ts';
import { soloLeadership, type EndpointDeps } from './deps.ts';
import { resolvedExportedServices } from './exported-services.ts';

let rev = 1;
function put(key: string, rec: object): WatchEvent {
  rev++;
  return { type: 'put', kv: { key, value: Buffer.from(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}

function setup() {
  const clock = new ManualClock();
  const replica = { configEntries: new ConfigEntriesTable(), catalog: new CatalogTables(), notifier: new Notifier(clock), lastContact: 0 };
  const deps = { replica, clock, leadership: soloLeadership('127.0.0.1:8300'), random: () => 0, config: { defaultQueryTime: 1000, maxQueryTime: 1000 } };
  return { replica, deps: deps as unknown as EndpointDeps };
}

test('named exports with peers and sameness groups resolved, sorted, consul left out', async () => {
  const { replica, deps } = setup();
  replica.configEntries.apply(put(configEntryKey('sameness-group', 'sg'), { Kind: 'sameness-group', Name: 'sg', Members: [{ Partition: 'default' }, { Peer: 'north' }, { Partition: 'ap2' }, { Peer: 'east' }] }));
  replica.configEntries.apply(put(configEntryKey('exported-services', 'default'), {
    Kind: 'exported-services', Name: 'default', Services: [
      { Name: 'web', Consumers: [{ Peer: 'west' }, { Peer: 'east' }] },
      { Name: 'db', Consumers: [{ SamenessGroup: 'sg' }] },
      { Name: 'web', Consumers: [{ Peer: 'east' }] },
      { Name: 'consul', Consumers: [{ Peer: 'east' }] },
      { Name: 'lonely', Consumers: [{ SamenessGroup: 'missing' }] },
    ],
  }));
  const { value, meta } = await resolvedExportedServices(deps, defaultQueryOptions());
  assert.deepEqual(value, [
    // The group's partitions are consumers too, the exporting partition itself left out.
    { Service: 'db', Consumers: { Peers: ['east', 'north'], Partitions: ['ap2'] } },
    { Service: 'lonely', Consumers: {} },
    { Service: 'web', Consumers: { Peers: ['east', 'west'] } },
  ]);
  assert.equal(meta.index, rev);
});

test('a wildcard exports every typical service of the catalog; none without an entry', async () => {
  const { replica, deps } = setup();
  assert.deepEqual((await resolvedExportedServices(deps, defaultQueryOptions())).value, []);
  replica.catalog.apply(put(nodeKey('n1'), { Node: 'n1', Address: '10.0.0.1' }));
  for (const [id, extra] of [['api', {}], ['consul', {}], ['api-proxy', { Kind: 'connect-proxy', Proxy: { DestinationServiceName: 'api' } }]] as const) {
    replica.catalog.apply(put(serviceKey('n1', id), { ID: id, Service: id, Port: 1, ...extra }));
  }
  replica.configEntries.apply(put(configEntryKey('exported-services', 'default'), {
    Kind: 'exported-services', Name: 'default', Services: [{ Name: '*', Consumers: [{ Peer: 'p1' }] }],
  }));
  assert.deepEqual((await resolvedExportedServices(deps, defaultQueryOptions())).value, [{ Service: 'api', Consumers: { Peers: ['p1'] } }]);
});
