// The transmit-limited broadcast queue: replacement by key, fewest-transmits first, limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BroadcastQueue } from './broadcast-queue.ts';
import type { PacketMsg } from './messages.ts';

const alive = (node: string, inc: number): PacketMsg => ({ t: 'alive', node, host: 'h', port: 1, tags: {}, inc });

test('a newer message about a node replaces the queued one and completes it', () => {
  const q = new BroadcastQueue(() => 3);
  let done = 0;
  q.enqueue('m:a', alive('a', 1), () => done++);
  q.enqueue('m:a', alive('a', 2));
  assert.equal(done, 1);
  assert.deepEqual(q.take(10_000), [alive('a', 2)]);
});

test('each message is sent at most the limit, least-sent first, within the byte budget', () => {
  const q = new BroadcastQueue(() => 2);
  let finished = false;
  q.enqueue('m:a', alive('a', 1), () => { finished = true; });
  assert.equal(q.take(10_000).length, 1);
  q.enqueue('m:b', alive('b', 1));
  assert.deepEqual(q.take(10_000).map((m) => (m as { node: string }).node), ['b', 'a']);
  assert.equal(finished, true);
  assert.equal(q.size, 1);
  assert.deepEqual(q.take(10), [], 'nothing fits in 10 bytes');
  assert.equal(q.take(10_000).length, 1);
  assert.equal(q.size, 0);
});
