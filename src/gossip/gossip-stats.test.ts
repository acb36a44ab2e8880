// memberlist's msg.alive counts the node's own first alive message when it starts (Create's
// setAlive goes through aliveNode), before any peer is heard from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { createGossip } from './index.ts';
import { MemoryNetwork } from './transport-memory.ts';

test('a starting node counts its own alive message once', async () => {
  const clock = new ManualClock();
  const net = new MemoryNetwork(clock);
  const g = createGossip({ name: 'a', bindAddr: '10.0.0.1', bindPort: 8301 }, { clock, logger: silentLogger(), transport: net.transport('10.0.0.1', 8301) });
  let alive = 0;
  g.instrument({ msgAlive: () => { alive++; } });
  await g.start();
  try {
    assert.equal(alive, 1);
  } finally {
    await g.shutdown();
  }
});

test("queue.broadcasts samples memberlist's own queue: member messages, not Serf's user events", async () => {
  const clock = new ManualClock();
  const net = new MemoryNetwork(clock);
  const g = createGossip({ name: 'a', bindAddr: '10.0.0.1', bindPort: 8301 }, { clock, logger: silentLogger(), transport: net.transport('10.0.0.1', 8301) });
  const depths: number[] = [];
  g.instrument({ queueBroadcasts: (n) => { depths.push(n); } });
  await g.start();
  try {
    // Alone in the pool, nothing is sent: both stay queued.
    g.userEvent('deploy', Buffer.from('v1'));
    g.setTags({ role: 'node' });
    clock.advance(30_000);
    assert.deepEqual(depths, [1]);
  } finally {
    await g.shutdown();
  }
});
