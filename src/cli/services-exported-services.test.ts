// `services exported-services` output: Consul's Service/Consumer columns and its consumer filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportsTable, filterConsumers } from './services-exported-services.ts';

const services = [
  { Service: 'db', Consumers: { Peers: ['east'] } },
  { Service: 'frontend', Consumers: { Peers: ['east', 'west'] } },
];

test('one row per service and consumer peer', () => {
  assert.equal(exportsTable(services), [
    'Service   Consumer',
    'db        Peer: east',
    'frontend  Peer: east',
    'frontend  Peer: west',
  ].join('\n'));
});

test('-consumerPeer keeps only services with that peer, each with just that peer', () => {
  assert.deepEqual(filterConsumers(services, 'west', ''), [{ Service: 'frontend', Consumers: { Peers: ['west'] } }]);
  assert.deepEqual(filterConsumers(services, 'none', ''), []);
  assert.equal(filterConsumers(services, '', ''), services);
});
