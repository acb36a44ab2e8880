// The API gateway controller's passes over a real store: writes per change settle to none, and a
// pass whose leadership ends midway writes nothing more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import type { Store } from '../store/index.ts';
import { Replica, configEntryStoreKey, encodeRecord, namespaceKey } from '../state/index.ts';
import { apiGatewayControllerDuty, reconcileApiGateways, type ApiGatewayControllerDeps } from './api-gateway-controller.ts';

async function setup(): Promise<{ store: MemoryStore; replica: Replica; deps: ApiGatewayControllerDeps; write(e: Record<string, unknown>): Promise<void> }> {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const replica = new Replica({ store, clock, logger: silentLogger() });
  await replica.start();
  const write = async (e: Record<string, unknown>) => {
    const res = await store.txn({ compares: [], success: [{ type: 'put', key: configEntryStoreKey(undefined, String(e.Kind), String(e.Name)), value: encodeRecord(e) }] });
    await replica.waitFor(res.revision);
  };
  return { store, replica, deps: { store, replica, clock, logger: silentLogger() }, write };
}

const gateway = { Kind: 'api-gateway', Name: 'gw', Listeners: [{ Name: 'web', Port: 8080, Protocol: 'http' }], Status: { Conditions: null } };
const route = (name: string) => ({ Kind: 'http-route', Name: name, Parents: [{ Kind: 'api-gateway', Name: 'gw' }], Rules: [{ Services: [{ Name: name }] }], Status: { Conditions: null } });

test('each change costs the writes it needs, then a pass writes nothing', async () => {
  const { replica, deps, write } = await setup();
  try {
    await write({ Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } });
    await write(gateway);
    await write(route('a'));
    // The gateway's status, the route's status and the new bound entry.
    assert.equal(await reconcileApiGateways(deps), 3);
    assert.equal(await reconcileApiGateways(deps), 0, 'settled');
    await write(route('b'));
    // b's status and the bound entry: the gateway's own conditions did not change.
    assert.equal(await reconcileApiGateways(deps), 2);
    assert.equal(await reconcileApiGateways(deps), 0, 'settled');
    // Unrelated config entries write nothing.
    await write({ Kind: 'service-defaults', Name: 'other', Protocol: 'tcp' });
    assert.equal(await reconcileApiGateways(deps), 0);
  } finally {
    replica.stop();
  }
});

test('a pass stops writing once leadership is lost', async () => {
  const { replica, deps, write } = await setup();
  try {
    await write({ Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } });
    await write(gateway);
    await write(route('a'));
    await write(route('b'));
    const stop = new AbortController();
    let txns = 0;
    const store = new Proxy(deps.store, {
      get(target, prop, recv) {
        if (prop !== 'txn') return Reflect.get(target, prop, recv);
        return (...args: Parameters<Store['txn']>) => {
          txns++;
          stop.abort(); // stepped down while the first write was in flight
          return target.txn(...args);
        };
      },
    });
    assert.equal(await reconcileApiGateways({ ...deps, store }, stop.signal), 1);
    assert.equal(txns, 1, 'no write after step-down');
  } finally {
    replica.stop();
  }
});

test('the running controller settles, and wakes only for kinds its passes read', async () => {
  const { replica, deps, write } = await setup();
  let passes = 0;
  const duty = apiGatewayControllerDuty({ ...deps, onPass: () => { passes++; } });
  // Lets the controller run what a change queued (its passes and their writes), however many turns that takes.
  const idle = async () => {
    for (let last = -1; last !== passes + replica.appliedRevision;) {
      last = passes + replica.appliedRevision;
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    }
  };
  try {
    await write({ Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } });
    await write(gateway);
    await write(route('a'));
    await duty.start();
    await idle();
    const bound = replica.configEntries.get('bound-api-gateway', 'gw');
    assert.deepEqual((bound?.Listeners as { Routes: unknown[] }[])[0].Routes, [{ Kind: 'http-route', Name: 'a', SectionName: '' }]);
    const settled = passes;
    // Intentions are no input of the controller: no pass.
    await write({ Kind: 'service-intentions', Name: 'a', Sources: [{ Name: 'b', Action: 'allow' }] });
    await idle();
    assert.equal(passes, settled, 'an intention woke the controller');
    // The route's service changing protocol is: the route is refused and unbound.
    await write({ Kind: 'service-defaults', Name: 'a', Protocol: 'tcp' });
    await idle();
    assert.ok(passes > settled);
    const conds = (replica.configEntries.get('http-route', 'a')?.Status as { Conditions: { Type: string; Status: string }[] }).Conditions;
    assert.ok(conds.some((c) => c.Type === 'Accepted' && c.Status === 'False'), JSON.stringify(conds));
  } finally {
    duty.stop();
    replica.stop();
  }
});

test('a write planned before its namespace is purged does not land under the purged prefix', async () => {
  const { store, replica, deps } = await setup();
  const team = { partition: 'default', namespace: 'team' };
  const put = async (key: string, rec: object) => replica.waitFor((await store.txn({ compares: [], success: [{ type: 'put', key, value: encodeRecord(rec) }] })).revision);
  try {
    await put(namespaceKey(team), { Name: 'team', Description: '' });
    await put(configEntryStoreKey(team, 'api-gateway', 'gw'), gateway);
    await put(configEntryStoreKey(team, 'http-route', 'a'), { ...route('a'), Parents: [{ Kind: 'api-gateway', Name: 'gw' }] });
    let purged = false;
    const store2 = new Proxy(deps.store, {
      get(target, prop, recv) {
        if (prop !== 'txn') return Reflect.get(target, prop, recv);
        return async (...args: Parameters<Store['txn']>) => {
          if (!purged) {
            // The namespace is marked and reaped (its entries, then its record) while the pass writes.
            purged = true;
            await target.txn({ compares: [], success: [{ type: 'put', key: namespaceKey(team), value: encodeRecord({ Name: 'team', Description: '', DeletedAt: '2026-01-01T00:00:00Z' }) }] });
            const { kvs } = await target.range('t/');
            await target.txn({ compares: [], success: [...kvs.map((kv) => ({ type: 'delete' as const, key: kv.key })), { type: 'delete', key: namespaceKey(team) }] });
          }
          return target.txn(...args);
        };
      },
    });
    await reconcileApiGateways({ ...deps, store: store2 });
    assert.ok(purged);
    const { kvs } = await store.range('t/');
    assert.deepEqual(kvs.map((kv) => kv.key), [], 'nothing left under the purged namespace');
  } finally {
    replica.stop();
  }
});
