// Node IDs and names in catalog writes, as Consul's ensureNodeTxn: a name held by a live node
// (serfHealth not critical) with another ID is refused with Consul's text (500 from
// catalog/register, a 409 op error from /v1/txn); an ID registered under a new name renames the
// node, dropping the old name's services and checks; unhealthy or gossip-less nodes give way.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAgent } from './support/api-agent.ts';

const a = apiAgent();
const { call } = a;
const ID1 = 'aaaaaaaa-1111-4111-8111-111111111111';
const ID2 = 'bbbbbbbb-2222-4222-8222-222222222222';
const ID3 = 'cccccccc-3333-4333-8333-333333333333';
const serf = (status: string) => ({ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: status });

async function register(body: unknown): Promise<void> {
  const r = await call('PUT', '/v1/catalog/register', body);
  assert.equal(r.status, 200, r.text);
}

describe('node ID and name conflicts', () => {
  test('a live node keeps its name against another ID (any case); the refusal changes nothing', async () => {
    await register({ ID: ID1, Node: 'Live-Node', Address: '10.9.0.1', Check: serf('passing'), Service: { Service: 'db' } });
    const r = await call('PUT', '/v1/catalog/register', { ID: ID2, Node: 'live-node', Address: '10.9.0.2' });
    assert.equal(r.status, 500);
    assert.equal(r.text.trim(),
      `failed inserting node: Error while renaming Node ID: "${ID2}": Node name live-node is reserved by node ${ID1} with name Live-Node (10.9.0.1)`);
    const node = (await call('GET', '/v1/catalog/node/live-node')).json;
    assert.equal(node.Node.ID, ID1);
    assert.equal(node.Node.Address, '10.9.0.1');
    // The same ID in another case is the same node: no conflict.
    await register({ ID: ID1.toUpperCase(), Node: 'LIVE-NODE', Address: '10.9.0.1' });
  });

  test('an ID registered under a new name renames its node unless a live node has that name', async () => {
    await register({ ID: ID3, Node: 'other-live', Address: '10.9.0.3', Check: serf('passing') });
    const refused = await call('PUT', '/v1/catalog/register', { ID: ID1, Node: 'Other-Live', Address: '10.9.0.9' });
    assert.equal(refused.status, 500);
    assert.equal(refused.text.trim(), `failed inserting node: Error while renaming Node ID: "${ID1}" (10.9.0.9): `
      + `Node name Other-Live is reserved by node ${ID3} with name other-live (10.9.0.3)`);
    assert.equal((await call('GET', '/v1/catalog/node/live-node')).json.Node.ID.toLowerCase(), ID1, 'the node was not renamed');

    await register({ ID: ID1, Node: 'renamed-node', Address: '10.9.0.4' });
    assert.equal((await call('GET', '/v1/catalog/node/Live-Node')).json, null, 'the old name is gone');
    assert.deepEqual((await call('GET', '/v1/catalog/service/db')).json, [], 'with its services');
    const renamed = (await call('GET', '/v1/catalog/node/renamed-node')).json;
    assert.equal(renamed.Node.ID, ID1);
    assert.deepEqual(renamed.Services, {});
  });

  test('a critical or gossip-less node gives its name to another ID', async () => {
    await call('PUT', '/v1/catalog/register', { Node: 'other-live', Address: '10.9.0.3', Check: serf('critical') });
    await register({ ID: ID2, Node: 'OTHER-LIVE', Address: '10.9.0.5' });
    const node = (await call('GET', '/v1/catalog/node/other-live')).json.Node;
    // The node changed, so it is stored as sent, in the new spelling (Consul's ensureNodeTxn inserts it).
    assert.deepEqual([node.Node, node.ID, node.Address], ['OTHER-LIVE', ID2, '10.9.0.5']);
    await register({ ID: ID3, Node: 'external', Address: '10.9.0.6' });
    await register({ ID: ID2.replace('b', 'd'), Node: 'external', Address: '10.9.0.7' });
  });

  test('/v1/txn node set reports the conflict as an op error and renames by ID as register does', async () => {
    await register({ ID: ID3, Node: 'txn-live', Address: '10.9.1.1', Check: serf('passing') });
    const r = await call('PUT', '/v1/txn', [{ Node: { Verb: 'set', Node: { ID: ID1, Node: 'TXN-live', Address: '10.9.1.2' } } }]);
    assert.equal(r.status, 409, r.text);
    assert.deepEqual(r.json.Errors, [{ OpIndex: 0, What: `Error while renaming Node ID: "${ID1}" (10.9.1.2): `
      + `Node name TXN-live is reserved by node ${ID3} with name txn-live (10.9.1.1)` }]);
    const ok = await call('PUT', '/v1/txn', [
      { Node: { Verb: 'set', Node: { ID: ID1, Node: 'txn-renamed', Address: '10.9.1.3' } } },
      { Node: { Verb: 'get', Node: { ID: ID1.toUpperCase() } } },
    ]);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.Results.map((x: { Node: { Node: string } }) => x.Node.Node), ['txn-renamed', 'txn-renamed']);
    assert.equal((await call('GET', '/v1/catalog/node/renamed-node')).json, null, 'the ID\'s old name is gone');
  });
});

// Consul's ensureNodeTxn keeps a renamed node's CreateIndex; here the node moves to a new key and
// no index is stored in a value (DESIGN.md §4), so its CreateIndex is the renaming write's.
describe('a node renamed by its ID gets the renaming write\'s CreateIndex (not Consul\'s kept one)', () => {
  const ID4 = 'dddddddd-4444-4444-8444-444444444444';
  const ID5 = 'eeeeeeee-5555-4555-8555-555555555555';
  const coord = { Vec: [0.1, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 };
  const nodeOf = async (name: string) => (await call('GET', `/v1/catalog/node/${name}`)).json?.Node;

  test('catalog/register: the rename creates the node anew; later writes keep that CreateIndex', async () => {
    await register({ ID: ID4, Node: 'first-name', Address: '10.9.2.1' });
    const before = await nodeOf('first-name');
    await register({ Node: 'filler', Address: '10.9.2.9' });
    const filler = await nodeOf('filler');
    await register({ ID: ID4, Node: 'second-name', Address: '10.9.2.2' });
    const renamed = await nodeOf('second-name');
    // The renaming write made the node's key and is its latest write: both indexes are that write's.
    assert.ok(renamed.CreateIndex > filler.ModifyIndex, 'a new CreateIndex, after the writes before the rename');
    assert.equal(renamed.ModifyIndex, renamed.CreateIndex);
    assert.equal(await nodeOf('first-name'), undefined, 'the old name is gone');
    await register({ ID: ID4, Node: 'second-name', Address: '10.9.2.3', NodeMeta: { k: 'v' } });
    const updated = await nodeOf('SECOND-name');
    assert.deepEqual([updated.Address, updated.CreateIndex], ['10.9.2.3', renamed.CreateIndex]);
    assert.ok(updated.ModifyIndex > renamed.ModifyIndex);
    await register({ ID: ID4, Node: 'third-name', Address: '10.9.2.4' });
    const third = await nodeOf('third-name');
    assert.ok(third.CreateIndex > updated.ModifyIndex, 'a second rename gives a new one again');
    assert.equal(third.ModifyIndex, third.CreateIndex);
    const listed = (await call('GET', '/v1/catalog/nodes')).json.find((n: { Node: string }) => n.Node === 'third-name');
    assert.deepEqual([listed.CreateIndex, listed.ModifyIndex], [third.CreateIndex, third.ModifyIndex]);
  });

  test('coordinates of a renamed node are stored', async () => {
    const r = await call('PUT', '/v1/coordinate/update', { Node: 'third-name', Segment: '', Coord: coord });
    assert.equal(r.status, 200, r.text);
    await a.dev.agent.endpoints.coordinate.flush();
    const got = await call('GET', '/v1/coordinate/node/third-name');
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json[0].Coord.Vec, coord.Vec);
  });

  test('/v1/txn: the result and the stored node carry the renaming commit\'s CreateIndex', async () => {
    await register({ ID: ID5, Node: 'txn-first', Address: '10.9.3.1' });
    await register({ Node: 'filler', Address: '10.9.3.9' });
    const filler = await nodeOf('filler');
    const r = await call('PUT', '/v1/txn', [{ Node: { Verb: 'set', Node: { ID: ID5, Node: 'txn-second', Address: '10.9.3.2' } } }]);
    assert.equal(r.status, 200, r.text);
    const moved = r.json.Results[0].Node;
    assert.ok(moved.CreateIndex > filler.ModifyIndex);
    assert.equal(moved.ModifyIndex, moved.CreateIndex);
    const stored = await nodeOf('txn-second');
    assert.deepEqual([stored.CreateIndex, stored.ModifyIndex], [moved.CreateIndex, moved.ModifyIndex]);
    const again = await call('PUT', '/v1/txn', [{ Node: { Verb: 'set', Node: { ID: ID5, Node: 'txn-second', Address: '10.9.3.3' } } }]);
    assert.equal(again.json.Results[0].Node.CreateIndex, moved.CreateIndex);
    assert.ok(again.json.Results[0].Node.ModifyIndex > moved.ModifyIndex);
    assert.equal((await nodeOf('txn-second')).CreateIndex, moved.CreateIndex);
  });
});
