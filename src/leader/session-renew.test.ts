// The renew relay with a namespaced session: a follower's renew key sits under the session's
// tenant prefix (purged with the namespace, never in snapshots), and the leader re-arms from it
// and deletes it with the session.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import type { KeyValue } from '../store/index.ts';
import { Replica, encodeRecord, type SessionRecord } from '../state/index.ts';
import { isServerLocalKey } from '../endpoint/snapshot.ts';
import { SessionRenewRelay } from './session-renew.ts';
import type { SessionTimers } from './session-ttl.ts';

const ID = '11111111-2222-3333-4444-555555555555';
const TENANT_SESSION = `t/default/team-a/session/${ID}`;
const TENANT_RENEW = `t/default/team-a/sessionrenew/${ID}`;

async function keyed(store: MemoryStore, key: string): Promise<KeyValue | undefined> {
  for (let i = 0; i < 100; i++) {
    const kv = (await store.range(key)).kvs.find((x) => x.key === key);
    if (kv) return kv;
    await new Promise((r) => setImmediate(r));
  }
  return undefined;
}

test('a namespaced session\'s renew relay key is under its tenant prefix; the leader re-arms from it and deletes it with the session', async () => {
  const store = new MemoryStore();
  const logger = silentLogger();
  const replica = new Replica({ store, clock: new ManualClock(), logger });
  const rec: SessionRecord = {
    ID, Name: '', Node: 'n1', LockDelay: 0, Behavior: 'release', TTL: '30s', NodeChecks: null, ServiceChecks: null, Namespace: 'team-a',
  };
  const put = await store.txn({ success: [{ type: 'put', key: TENANT_SESSION, value: encodeRecord(rec) }] });
  await replica.start();
  await replica.waitFor(put.revision);
  const s = replica.sessions.get(ID);
  assert.equal(s?.Namespace, 'team-a');

  const armed: string[] = [];
  const cleared: string[] = [];
  const timers = { armed: (x: SessionRecord) => void armed.push(x.ID), cleared: (id: string) => void cleared.push(id) } as unknown as SessionTimers;
  const follower = new SessionRenewRelay({ store, replica, timers, logger, isLeader: () => false });
  follower.armed(s!);
  const renew = await keyed(store, TENANT_RENEW);
  assert.ok(renew, 'the follower wrote the tenant renew key');
  assert.equal((await store.range('sessionrenew/')).kvs.length, 0, 'no default-tenant renew key');
  assert.ok(isServerLocalKey(TENANT_RENEW) && isServerLocalKey(`sessionrenew/${ID}`), 'renew keys are never saved in snapshots');
  assert.ok(!isServerLocalKey(TENANT_SESSION));

  const leader = new SessionRenewRelay({ store, replica, timers, logger, isLeader: () => true });
  leader.observe({ revision: renew.modRevision, events: [{ type: 'put', kv: renew }] });
  assert.deepEqual(armed, [ID], 'the leader re-armed the session from the tenant renew key');

  const del = await store.txn({ success: [{ type: 'delete', key: TENANT_SESSION }] });
  leader.observe({ revision: del.revision, events: [{ type: 'delete', kv: { ...renew, key: TENANT_SESSION, modRevision: del.revision } }] });
  assert.deepEqual(cleared, [ID]);
  for (let i = 0; i < 100 && (await store.range(TENANT_RENEW)).kvs.length; i++) await new Promise((r) => setImmediate(r));
  assert.equal((await store.range(TENANT_RENEW)).kvs.length, 0, 'the stale tenant renew key is deleted');
  replica.stop();
});

test('a follower\'s renew racing the session\'s delete (destroy or namespace purge) leaves no renew key behind', async () => {
  const store = new MemoryStore();
  const logger = silentLogger();
  const replica = new Replica({ store, clock: new ManualClock(), logger });
  const rec: SessionRecord = {
    ID, Name: '', Node: 'n1', LockDelay: 0, Behavior: 'release', TTL: '30s', NodeChecks: null, ServiceChecks: null, Namespace: 'team-a',
  };
  const put = await store.txn({ success: [{ type: 'put', key: TENANT_SESSION, value: encodeRecord(rec) }] });
  await replica.start();
  await replica.waitFor(put.revision);
  const s = replica.sessions.get(ID)!;
  // The session is gone from the store; the follower's renew read it just before.
  await store.txn({ success: [{ type: 'deletePrefix', prefix: 't/default/team-a/' }] });
  const timers = { armed: () => {}, cleared: () => {} } as unknown as SessionTimers;
  new SessionRenewRelay({ store, replica, timers, logger, isLeader: () => false }).armed(s);
  assert.equal(await keyed(store, TENANT_RENEW), undefined, 'no orphan renew key under the purged prefix');
});
