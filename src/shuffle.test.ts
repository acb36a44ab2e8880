import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shuffle } from './shuffle.ts';
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
