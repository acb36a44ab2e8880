// Tenant writes (KV, sessions) re-check their tenant on every plan and pin its records, so a write
// planned before a namespace's purge cannot land under the purged prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TenantTables, encodeRecord, namespaceKey, type EnterpriseMeta } from '../state/index.ts';
import type { WatchEvent } from '../store/index.ts';
import { inTenant } from './kv.ts';
import type { Plan } from './commit.ts';

const team: EnterpriseMeta = { partition: 'default', namespace: 'team-1' };

function nsEvent(type: 'put' | 'delete', rev: number, rec: object = { Name: 'team-1' }): WatchEvent {
  return { type, kv: { key: namespaceKey(team), value: encodeRecord(rec), createRevision: 5, modRevision: rev, version: 1, lease: 0 } };
}

const write = (): Plan<boolean> => ({ txn: { compares: [{ key: 'x', target: 'modRevision', op: '=', value: 1 }], success: [] }, done: () => true });

test('a tenant planner pins the namespace record and refuses once it is gone or marked; the default planner is untouched', () => {
  const tenants = new TenantTables();
  assert.equal(inTenant(tenants, undefined, write), write, 'the default tenant keeps its planner');
  const plan = inTenant(tenants, team, write);
  assert.throws(plan, /Namespace "team-1" does not exist/);
  tenants.namespaces.apply(nsEvent('put', 7));
  const p = plan();
  assert.ok('txn' in p);
  assert.deepEqual(p.txn.compares, [
    { key: 'x', target: 'modRevision', op: '=', value: 1 },
    { key: 'tenancy/namespace/default/team-1', target: 'modRevision', op: '=', value: 7 },
  ]);
  tenants.namespaces.apply(nsEvent('put', 9, { Name: 'team-1', DeletedAt: '2026-11-26T12:00:00Z' }));
  assert.throws(plan, /Namespace "team-1" is being deleted/);
  tenants.namespaces.apply(nsEvent('delete', 10));
  assert.throws(plan, /does not exist/);
  const answer = inTenant(tenants, { partition: 'default', namespace: 'default' }, () => ({ answer: true }));
  assert.deepEqual(answer(), { answer: true });
});
