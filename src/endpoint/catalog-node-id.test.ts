// Consul's node ID and name rules (ensureNodeTxn, ensureNoNodeWithSimilarNameTxn) over a plain lookup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNodeId, type NodeLookup } from './catalog-node-id.ts';
import type { Node } from '../api/catalog-types.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const mk = (name: string, id: string): Node =>
  ({ ID: id, Node: name, Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: null, Meta: null, CreateIndex: 1, ModifyIndex: 1 });

function lookup(nodes: Node[], serf: Record<string, string>): NodeLookup {
  return {
    node: (n) => nodes.find((x) => x.Node.toLowerCase() === n.toLowerCase()),
    nodeById: (id) => nodes.find((x) => x.ID && x.ID.toLowerCase() === id.toLowerCase()),
    checkStatus: (n, c) => (c === 'serfHealth' ? serf[n] : undefined),
  };
}

test('a name held by a live node with another ID is refused; critical, gossip-less and ID-less holders give way', () => {
  const live = lookup([mk('Web', A)], { Web: 'passing' });
  assert.equal(checkNodeId(live, { ID: B, Node: 'web', Address: '10.0.0.2' }).error,
    `Error while renaming Node ID: "${B}": Node name web is reserved by node ${A} with name Web (10.0.0.1)`);
  assert.deepEqual(checkNodeId(live, { ID: A.toUpperCase(), Node: 'WEB', Address: 'x' }), {});
  assert.deepEqual(checkNodeId(live, { ID: '', Node: 'web', Address: 'x' }), {}, 'a node without ID is not checked');
  assert.deepEqual(checkNodeId(lookup([mk('Web', A)], { Web: 'critical' }), { ID: B, Node: 'web', Address: 'x' }), {});
  assert.deepEqual(checkNodeId(lookup([mk('Web', A)], {}), { ID: B, Node: 'web', Address: 'x' }), {});
  assert.deepEqual(checkNodeId(lookup([mk('Web', '')], { Web: 'passing' }), { ID: B, Node: 'web', Address: 'x' }), {});
});

test('an ID held under another name renames that node unless the new name is taken by a live node', () => {
  const holder = mk('old', A);
  assert.equal(checkNodeId(lookup([holder], {}), { ID: A, Node: 'new', Address: 'x' }).renames, holder);
  const taken = lookup([holder, mk('New', B)], { New: 'warning' });
  assert.equal(checkNodeId(taken, { ID: A, Node: 'new', Address: '10.0.0.9' }).error,
    `Error while renaming Node ID: "${A}" (10.0.0.9): Node name new is reserved by node ${B} with name New (10.0.0.1)`);
  // Renaming over a live node without an ID is refused too (no take-over allowance for a rename).
  const noId = lookup([holder, mk('New', '')], { New: 'passing' });
  assert.match(checkNodeId(noId, { ID: A, Node: 'new', Address: 'x' }).error ?? '', /reserved by node  with name New/);
});
