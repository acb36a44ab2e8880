// The store engine keeps the default catalog's keys (catalog/) hashed and sorts them when a range
// reaches them, ≈ 70 ms of CPU at 200k keys after any registration (src/store/key-map.ts): so no
// request path may range or deletePrefix at or under catalog/; only whole-keyspace reads (the
// replica's listing, snapshots, restore) reach them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../src/store/index.ts';
import type { RangeResult, TxnRequest, TxnResponse } from '../src/store/index.ts';
import { startDevAgent } from './support/agent.ts';
import { apiCaller } from './support/api-agent.ts';

const HASHED = 'catalog/';
const reaches = (prefix: string): boolean => HASHED.startsWith(prefix) || prefix.startsWith(HASHED);

/** A memory store that records every prefix read or deleted that reaches the hashed keys. */
class RecordingStore extends MemoryStore {
  readonly reached: string[] = [];
  override range(prefix: string): Promise<RangeResult> {
    if (reaches(prefix)) this.reached.push(`range ${JSON.stringify(prefix)}`);
    return super.range(prefix);
  }
  override txn(req: TxnRequest): Promise<TxnResponse> {
    for (const op of [...req.success, ...(req.failure ?? [])]) {
      if ((op.type === 'range' || op.type === 'deletePrefix') && reaches(op.prefix)) this.reached.push(`${op.type} ${JSON.stringify(op.prefix)}`);
    }
    return super.txn(req);
  }
}

/** Registrations, check updates, sessions, coordinates, deregistrations and /v1/txn through HTTP. */
async function exercise(call: ReturnType<typeof apiCaller>): Promise<void> {
  const ok = async (method: string, path: string, body?: unknown): Promise<void> => {
    const r = await call(method, path, body);
    assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
  };
  for (let i = 0; i < 5; i++) {
    await ok('PUT', '/v1/catalog/register', {
      Node: `n${i}`, Address: `10.0.0.${i}`, Service: { Service: 'web', ID: `web${i}`, Port: 80 },
      Checks: [{ CheckID: `c${i}`, Name: 'alive', ServiceID: `web${i}`, Status: 'passing' }, { CheckID: 'serfHealth', Name: 'serf', Status: 'passing' }],
    });
  }
  await ok('PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Check: { CheckID: 'c1', Name: 'alive', ServiceID: 'web1', Status: 'critical' } });
  await ok('PUT', '/v1/agent/service/register', { Name: 'api', ID: 'api', Port: 81, Check: { TTL: '30s' } });
  await ok('PUT', '/v1/agent/check/pass/service:api');
  await ok('PUT', '/v1/coordinate/update', { Node: 'n2', Coord: { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 } });
  const session = await call('PUT', '/v1/session/create', { Node: 'n3', Checks: ['c3'] });
  assert.equal(session.status, 200, session.text);
  await ok('PUT', `/v1/session/destroy/${session.json.ID}`);
  await ok('PUT', '/v1/catalog/deregister', { Node: 'n0', ServiceID: 'web0' });
  await ok('PUT', '/v1/catalog/deregister', { Node: 'n2' });
  await ok('PUT', '/v1/agent/service/deregister/api');
  // KV verbs with user prefixes live under kv/, whatever the user's key.
  await ok('PUT', '/v1/kv/catalog/x', 'v');
  await ok('GET', '/v1/kv/catalog/?recurse');
  await ok('DELETE', '/v1/kv/catalog?recurse');
  await ok('PUT', '/v1/txn', [
    { KV: { Verb: 'get-tree', Key: 'catalog/' } }, { KV: { Verb: 'delete-tree', Key: 'catalog' } },
    { Node: { Verb: 'delete', Node: { Node: 'n4' } } },
  ]);
  for (const path of ['/v1/catalog/nodes', '/v1/catalog/services', '/v1/health/service/web', '/v1/catalog/node/n1', '/v1/health/state/any']) await ok('GET', path);
}

test('catalog and KV requests never range or deletePrefix at or under catalog/ in the store', async () => {
  const store = new RecordingStore();
  const dev = await startDevAgent({ deps: { store } });
  try {
    // The replica lists the whole keyspace once at start: the recorder sees it.
    assert.ok(store.reached.includes('range ""'), `the start's listing recorded: ${store.reached.join(', ')}`);
    store.reached.length = 0;
    await exercise(apiCaller(() => `http://${dev.httpAddr}`));
    assert.deepEqual(store.reached, []);
  } finally {
    await dev.stop();
  }
});
