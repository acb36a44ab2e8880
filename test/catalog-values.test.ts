// Stored catalog values carry no index (DESIGN.md §4: CreateIndex and ModifyIndex come from store
// revisions, so a snapshot restore can give every key new ones): after a node renamed by its ID
// and service and check IDs re-spelled, by catalog/register and by /v1/txn, neither the saved
// snapshot nor the store holds a revision-derived field in any catalog value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAgent } from './support/api-agent.ts';
import { readArchive } from '../src/snapshot/index.ts';
import { readSnapshot } from '../src/store/index.ts';

const a = apiAgent();
const { call } = a;
const ID = 'f0f0f0f0-1111-4111-8111-111111111111';
const REVISION_FIELDS = ['CreateIndex', 'ModifyIndex', 'KeptCreateIndex'];

async function ok(method: string, path: string, body: unknown): Promise<any> {
  const r = await call(method, path, body);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** Every catalog value in the store, as stored bytes decoded (guard keys hold none). */
function catalogValues(kvs: { key: string; value: Uint8Array }[]): [string, Record<string, unknown>][] {
  return kvs.filter((kv) => kv.key.startsWith('catalog/') && kv.value.length > 0)
    .map((kv) => [kv.key, JSON.parse(Buffer.from(kv.value).toString('utf8'))]);
}

function assertNoIndexes(values: [string, Record<string, unknown>][]): void {
  for (const [key, rec] of values) {
    assert.deepEqual(REVISION_FIELDS.filter((f) => f in rec), [], `${key} stores ${JSON.stringify(rec)}`);
  }
}

test('no catalog value holds a revision-derived field after renames and re-spelled IDs', async () => {
  const register = (node: string, sid: string, cid: string) => ok('PUT', '/v1/catalog/register', {
    ID, Node: node, Address: '10.9.5.1', Service: { ID: sid, Service: 'val', Port: 1 }, Check: { CheckID: cid, ServiceID: sid, Status: 'passing' },
  });
  await register('val-node', 'Val-1', 'Val-Check');
  await register('val-node-2', 'Val-1', 'Val-Check'); // renamed by its ID
  await register('val-node-2', 'val-1', 'val-check'); // IDs re-spelled
  await register('val-node-2', 'val-1', 'val-check'); // unchanged
  await ok('PUT', '/v1/txn', [{ Node: { Verb: 'set', Node: { ID, Node: 'val-node-3', Address: '10.9.5.2' } } }]);
  await ok('PUT', '/v1/txn', [
    { Service: { Verb: 'set', Node: 'val-node-3', Service: { ID: 'Txn-1', Service: 'val' } } },
    { Check: { Verb: 'set', Check: { Node: 'val-node-3', CheckID: 'Txn-Check', ServiceID: 'Txn-1', Status: 'passing' } } },
  ]);
  const moved = await ok('PUT', '/v1/txn', [
    { Service: { Verb: 'set', Node: 'VAL-NODE-3', Service: { ID: 'TXN-1', Service: 'val', Port: 2 } } },
    { Check: { Verb: 'set', Check: { Node: 'val-node-3', CheckID: 'txn-check', ServiceID: 'txn-1', Status: 'warning' } } },
  ]);
  // The writes did what they say: one node under its last name, the IDs as last spelled.
  const node = (await call('GET', '/v1/catalog/node/val-node-3')).json;
  assert.equal(node.Node.ID, ID);
  assert.deepEqual(Object.keys(node.Services), ['TXN-1']);
  assert.deepEqual((await call('GET', '/v1/health/node/val-node-3')).json.map((c: { CheckID: string }) => c.CheckID), ['txn-check']);
  assert.equal(moved.Results[0].Service.CreateIndex, moved.Results[0].Service.ModifyIndex, 'the moving commit\'s CreateIndex');

  const res = await fetch(`${a.base}/v1/snapshot`);
  assert.equal(res.status, 200);
  const { state } = await readArchive(Buffer.from(await res.arrayBuffer()));
  const saved = catalogValues((await readSnapshot((async function* () { yield state; })())).kvs);
  assert.ok(saved.some(([key]) => key.endsWith('/TXN-1')), 'the snapshot holds the moved instance');
  assertNoIndexes(saved);
  assertNoIndexes(catalogValues((await a.dev.agent.store.range('catalog/')).kvs));
});
