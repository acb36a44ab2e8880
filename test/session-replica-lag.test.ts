// A session another server just created may not be in this server's replica yet: renew and
// destroy believe a miss only after catching up with the Store (Consul answers them on the
// leader). The Store here delivers its watch batches late on demand, as a lagging server's would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, type Store, type WatchHandlers } from '../src/store/index.ts';
import { SESSION_PREFIX, encodeRecord, type SessionRecord } from '../src/state/index.ts';
import { startDevAgent } from './support/agent.ts';

/** A MemoryStore whose watchers get each batch `lagMs` late while lagging (order kept). */
function laggingStore(): { store: Store; lag: (ms: number) => void } {
  const inner = new MemoryStore();
  let lagMs = 0;
  let queue = Promise.resolve();
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'watch') {
        return (after: number, h: WatchHandlers) => target.watch(after, {
          ...h,
          onBatch: (b) => {
            const delay = lagMs;
            queue = queue.then(() => new Promise<void>((r) => setTimeout(() => { h.onBatch(b); r(); }, delay)));
          },
        });
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store, lag: (ms) => { lagMs = ms; } };
}

test('renew and destroy find a session this server has not applied yet', async () => {
  const { store, lag } = laggingStore();
  const a = await startDevAgent({ deps: { store } });
  try {
    const rec = (id: string): SessionRecord => ({
      ID: id, Name: '', Node: a.agent.config.nodeName, LockDelay: 0, Behavior: 'release', TTL: '', NodeChecks: null, ServiceChecks: null, Namespace: 'default',
    } as SessionRecord);
    lag(200);
    // Written as another server would: straight to the Store, not through this server.
    for (const id of ['11111111-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000002']) {
      await store.txn({ compares: [], success: [{ type: 'put', key: SESSION_PREFIX + id, value: encodeRecord(rec(id)) }] });
    }
    assert.equal(a.agent.replica.sessions.get('11111111-0000-0000-0000-000000000001'), undefined, 'the replica lags');
    const renewed = await a.agent.endpoints.session.renew('11111111-0000-0000-0000-000000000001');
    assert.equal(renewed?.[0]?.ID, '11111111-0000-0000-0000-000000000001');
    await a.agent.endpoints.session.destroy('11111111-0000-0000-0000-000000000002');
    lag(0);
    assert.equal(a.agent.replica.sessions.get('11111111-0000-0000-0000-000000000002'), undefined, 'destroyed');
    assert.equal(await a.agent.endpoints.session.renew('11111111-0000-0000-0000-00000000dead'), null, 'a session that does not exist is still not found');
  } finally {
    await a.stop();
  }
});
