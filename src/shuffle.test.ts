import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shuffle, shuffleIndexes, shuffleIndexesFrom, shuffleState } from './shuffle.ts';
import { seededRandom } from './gossip/index.ts';

test('shuffle permutes in place and keeps every item', () => {
  const xs = Array.from({ length: 20 }, (_, i) => i);
  const out = shuffle(xs, seededRandom(7));
  assert.equal(out, xs);
  assert.deepEqual([...out].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
  assert.notDeepEqual(out, Array.from({ length: 20 }, (_, i) => i));
});

test('shuffle is reproducible from the random source and reaches every position', () => {
  assert.deepEqual(shuffle([1, 2, 3, 4, 5], seededRandom(3)), shuffle([1, 2, 3, 4, 5], seededRandom(3)));
  const random = seededRandom(1);
  const firsts = new Set<number>();
  for (let n = 0; n < 200; n++) firsts.add(shuffle([0, 1, 2, 3], random)[0]);
  assert.deepEqual([...firsts].sort(), [0, 1, 2, 3]);
});

test('shuffleIndexes makes the permutation shuffle() makes of 0..n-1 for the same draws, and leaves the rest of the array', () => {
  const a = seededRandom(11);
  const b = seededRandom(11);
  const order = new Int32Array(16).fill(-1);
  for (const n of [0, 1, 2, 3, 7, 10, 10, 15]) {
    shuffleIndexes(order, n, a);
    assert.deepEqual([...order.subarray(0, n)], shuffle(Array.from({ length: n }, (_, i) => i), b));
    assert.equal(order[15], -1);
  }
});

test('shuffleIndexesFrom draws every order of 3 about equally often and moves its state', () => {
  const state = Int32Array.from([1, 2, 3, 4]);
  const order = new Int32Array(3);
  const counts = new Map<string, number>();
  for (let k = 0; k < 60_000; k++) {
    shuffleIndexesFrom(order, 3, state);
    const key = order.join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), ['012', '021', '102', '120', '201', '210']);
  for (const c of counts.values()) assert.ok(c > 9_500 && c < 10_500, `${c} of 60,000 for one order`);
  assert.notDeepEqual([...shuffleState()], [0, 0, 0, 0]);
});
