// The coordinates table: records by node and segment, Consul's id-index order, case-insensitive
// node lookups, and the table index moving on deletes too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinatesTable, coordinateKey, COORDINATES_TABLE } from './coordinates.ts';
import type { WatchEvent } from '../store/index.ts';

const coord = (x: number) => ({ Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 0.5, Adjustment: 0, Height: 1e-5 });
function put(node: string, segment: string, x: number, rev: number): WatchEvent {
  const value = Buffer.from(JSON.stringify({ Node: node, Segment: segment, Coord: coord(x) }));
  return { type: 'put', kv: { key: coordinateKey(node, segment), value, createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}

test('entries sort by node case-insensitively then segment; lookups ignore case; deletes move the index', () => {
  const t = new CoordinatesTable();
  assert.deepEqual(t.apply(put('web-b', '', 1, 3)), [[COORDINATES_TABLE, 'web-b']]);
  t.apply(put('Web-A', 'alpha', 2, 4));
  t.apply(put('Web-A', '', 3, 5));
  t.apply(put('a/b', '', 4, 6));
  assert.deepEqual(t.all().map((e) => [e.Node, e.Segment]), [['a/b', ''], ['Web-A', ''], ['Web-A', 'alpha'], ['web-b', '']]);
  assert.deepEqual(t.node('web-a').map((e) => e.Segment), ['', 'alpha']);
  assert.equal(t.set('WEB-A').get('alpha')?.Vec[0], 2);
  assert.equal(t.index, 6);
  const del = put('web-b', '', 1, 3);
  t.apply({ type: 'delete', kv: { ...del.kv, modRevision: 9 } });
  assert.deepEqual(t.node('web-b'), []);
  assert.equal(t.index, 9);
  t.reset();
  assert.deepEqual([t.all(), t.index], [[], 0]);
});
