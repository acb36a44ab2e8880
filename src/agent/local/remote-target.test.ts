// A client agent's catalog target: the node is registered again when the server's copy drifted,
// its locality included (Consul's syncNodeInfo compares it with the agent's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { devConfig } from '../../../test/support/agent.ts';
import { remoteCatalogTarget, type ServerCall } from './remote-target.ts';
import { nodeRegistration } from '../../leader/self-register.ts';

test('a node whose catalog copy lacks the agent locality reads as absent and is registered again with it', async () => {
  const config = devConfig({ server: false, nodeName: 'c1', locality: { Region: 'us-east-1', Zone: 'us-east-1a' } });
  const want = nodeRegistration(config);
  let stored: Record<string, unknown> = {
    ID: want.ID, Node: 'c1', Address: want.Address, TaggedAddresses: want.TaggedAddresses, Meta: want.NodeMeta,
  };
  const puts: Record<string, unknown>[] = [];
  const call: ServerCall = async (method, url, _token, body) => {
    if (method === 'PUT') {
      puts.push(body as Record<string, unknown>);
      const b = body as typeof want;
      stored = {
        ID: b.ID, Node: b.Node, Address: b.Address, TaggedAddresses: b.TaggedAddresses, Meta: b.NodeMeta, ...(b.Locality ? { Locality: b.Locality } : {}),
      };
      return { status: 200, headers: {}, body: Buffer.from('true'), server: 's' };
    }
    assert.equal(url, '/v1/catalog/node/c1');
    return { status: 200, headers: {}, body: Buffer.from(JSON.stringify({ Node: stored, Services: {} })), server: 's' };
  };
  const target = remoteCatalogTarget(call, config, () => '');
  assert.equal(await target.nodeServices('c1'), undefined, 'drifted: no locality in the catalog');
  await target.syncNode();
  assert.deepEqual(puts.map((p) => p.Locality), [{ Region: 'us-east-1', Zone: 'us-east-1a' }]);
  assert.deepEqual(await target.nodeServices('c1'), new Map());
  await target.syncNode();
  assert.equal(puts.length, 1, 'an up-to-date node is not registered again');
});
