import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batches, diffAcl } from './acl-replication-diff.ts';

test('records missing in the primary are deleted, new and changed ones fetched, equal ones left', () => {
  const local = [{ id: 'a', hash: 'h1' }, { id: 'b', hash: 'h2' }, { id: 'c', hash: 'h3' }];
  const remote = [{ id: 'b', hash: 'h2' }, { id: 'c', hash: 'changed' }, { id: 'd', hash: 'h4' }];
  assert.deepEqual(diffAcl(local, remote), { deletes: ['a'], updates: ['c', 'd'] });
});

test('an empty primary deletes everything replicated; an empty secondary fetches everything', () => {
  const items = [{ id: 'y', hash: '1' }, { id: 'x', hash: '2' }];
  assert.deepEqual(diffAcl(items, []), { deletes: ['x', 'y'], updates: [] });
  assert.deepEqual(diffAcl([], items), { deletes: [], updates: ['x', 'y'] });
  assert.deepEqual(diffAcl(items, items), { deletes: [], updates: [] });
});

test('batches keep order and size', () => {
  assert.deepEqual(batches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(batches([], 2), []);
});
