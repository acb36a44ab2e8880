import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shuffle, shuffleIndexes } from './shuffle.ts';
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
