// A server agent's in-process catalog target finds its node as the catalog endpoint does: by any
// spelling (Consul's lower-cased node index), services and checks alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogTables, checkKey, nodeKey, serviceKey, type Replica } from '../../state/index.ts';
import type { CatalogEndpoint } from '../../endpoint/index.ts';
import type { RuntimeConfig } from '../config/runtime.ts';
import type { WatchEvent } from '../../store/index.ts';
import { replicaNodeChecks, serverCatalogTarget } from './catalog-target.ts';

function put(key: string, rec: object, rev: number): WatchEvent {
  return { type: 'put', kv: { key, value: Buffer.from(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}

test('nodeServices and alias node checks name the node case-insensitively, like nodeChecks', () => {
  const cat = new CatalogTables();
  cat.apply(put(nodeKey('Server-1'), { ID: '', Node: 'Server-1', Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: null, Meta: null }, 2));
  cat.apply(put(serviceKey('Server-1', 'web'), { ID: 'web', Service: 'web', Tags: null, Port: 80 }, 3));
  cat.apply(put(checkKey('Server-1', 'serfHealth'), { Node: 'Server-1', CheckID: 'serfHealth', Name: 'Serf', Status: 'passing', ServiceID: '', ServiceName: '' }, 4));
  const replica = { catalog: cat } as unknown as Replica;
  const target = serverCatalogTarget({} as CatalogEndpoint, replica, {} as RuntimeConfig, () => { throw new Error('unused'); });
  const services = target.nodeServices('server-1') as Map<string, unknown> | undefined;
  assert.deepEqual([...(services?.keys() ?? [])], ['web'], 'the node\'s services, not "node absent"');
  assert.deepEqual((target.nodeChecks('server-1') as { CheckID: string }[]).map((c) => c.CheckID), ['serfHealth']);
  assert.equal(target.nodeServices('server-2'), undefined);
  assert.deepEqual(replicaNodeChecks(replica)('SERVER-1').map((c) => c.Name), ['Serf']);
  assert.throws(() => replicaNodeChecks(replica)('server-2'), /Node "server-2" not found/);
});
