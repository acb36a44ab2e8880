import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchEvent } from '../store/index.ts';
import { SessionsTable, sessionStoreKey, sessionInTenant } from './sessions.ts';

const put = (key: string, rec: object, rev = 5): WatchEvent => ({
  type: 'put',
  kv: { key, value: Buffer.from(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 },
} as unknown as WatchEvent);

const rec = (id: string, extra: object = {}) => ({
  ID: id, Name: '', Node: 'n1', LockDelay: 15e9, Behavior: 'release', TTL: '', NodeChecks: null, ServiceChecks: null,
  Namespace: 'default', ...extra,
});

test('a session at session/<id> is the default tenant\'s whatever its value names, so its keys are the ones it has', () => {
  const t = new SessionsTable();
  // As the slice-2 builds wrote a namespaced session (or a snapshot of theirs restores it).
  t.apply(put('session/a', rec('a', { Namespace: 'team', Partition: 'west' })));
  const s = t.get('a')!;
  assert.equal(s.Namespace, 'default');
  assert.equal(s.Partition, undefined);
  assert.equal(sessionStoreKey(s), 'session/a');
  assert.equal(sessionStoreKey(s, 'sessionlocks/'), 'sessionlocks/a');
  assert.equal(sessionInTenant(s, undefined), true);
});

test('a default session keeps its value as written; a tenant session takes its tenant from the key', () => {
  const t = new SessionsTable();
  t.apply(put('session/b', rec('b')));
  const { CreateIndex: _c, ModifyIndex: _m, ...b } = t.get('b')!;
  assert.deepEqual(b, rec('b'));
  t.applyTenant({ partition: 'default', namespace: 'Team' }, put('session/c', rec('c', { Namespace: 'default' })));
  const c = t.get('c')!;
  assert.equal(c.Namespace, 'team');
  assert.equal(sessionStoreKey(c), 't/default/team/session/c');
});
