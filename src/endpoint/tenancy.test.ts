// resolveEnt's precedence (Consul's body > query/header > agent partition > token scope > default,
// with the peer rule) and writableEnt's refusals of missing and deleting tenants.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveEnt, writableEnt } from './tenancy.ts';
import { DEFAULT_ENT, TenantTables } from '../state/index.ts';
import type { WatchEvent } from '../store/index.ts';

const token = { partition: 'tp', namespace: 'tns' };

test('precedence table', () => {
  const rows: [Parameters<typeof resolveEnt>[0], { partition: string; namespace: string }][] = [
    [{}, DEFAULT_ENT],
    [{ token }, token],
    [{ token, peer: true }, { partition: 'tp', namespace: 'default' }],
    [{ token, peer: true, request: { namespace: 'q' } }, { partition: 'tp', namespace: 'q' }],
    [{ token, agentPartition: 'agent' }, { partition: 'agent', namespace: 'tns' }],
    [{ token, agentPartition: 'agent', request: { partition: 'q' } }, { partition: 'q', namespace: 'tns' }],
    [{ token, request: { namespace: 'q', partition: 'qp' }, body: { namespace: 'b' } }, { partition: 'qp', namespace: 'b' }],
    [{ token, request: { namespace: '', partition: '' }, body: { namespace: '', partition: 'bp' } }, { partition: 'bp', namespace: 'tns' }],
    [{ request: { namespace: '*' } }, { partition: 'default', namespace: '*' }],
  ];
  for (const [sources, want] of rows) assert.deepEqual(resolveEnt(sources), want, JSON.stringify(sources));
  assert.equal(resolveEnt({ request: { namespace: 'DEFAULT' } }), DEFAULT_ENT);
});

function put(key: string, rec: object, rev: number): WatchEvent {
  return { type: 'put', kv: { key, value: Buffer.from(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}

test('writableEnt: the default tenant always; others only when they exist and are not being deleted', () => {
  const t = new TenantTables();
  writableEnt(t, undefined);
  writableEnt(t, DEFAULT_ENT);
  assert.throws(() => writableEnt(t, { partition: 'default', namespace: 'luke' }), { name: 'InternalError', message: 'Namespace "luke" does not exist' });
  assert.throws(() => writableEnt(t, { partition: 'west', namespace: 'default' }), { message: 'Partition "west" does not exist' });
  t.namespaces.apply(put('tenancy/namespace/default/luke', { Name: 'luke' }, 2));
  t.partitions.apply(put('tenancy/partition/west', { Name: 'west', DeletedAt: '2026-11-26T12:00:00Z' }, 3));
  writableEnt(t, { partition: 'Default', namespace: 'Luke' });
  assert.throws(() => writableEnt(t, { partition: 'west', namespace: 'default' }), { message: 'Partition "west" is being deleted' });
  t.namespaces.apply(put('tenancy/namespace/default/luke', { Name: 'luke', DeletedAt: '2026-11-26T12:00:00Z' }, 4));
  assert.throws(() => writableEnt(t, { partition: 'default', namespace: 'luke' }), { message: 'Namespace "luke" is being deleted' });
});
