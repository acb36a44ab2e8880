// Gossip over real sockets on 127.0.0.1 (UDP probes and gossip, TCP push-pull): three
// encrypted nodes join, exchange an event, detect a killed node, and refuse a wrong-key join.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGossip, type Gossip, type GossipEvent } from '../src/gossip/index.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER = Buffer.alloc(32, 8).toString('base64');
const FAST = {
  bindAddr: '127.0.0.1', bindPort: 0, probeIntervalMs: 100, probeTimeoutMs: 50, gossipIntervalMs: 20,
  pushPullIntervalMs: 1_000, reconnectIntervalMs: 1_000, leavePropagateDelayMs: 50, tcpTimeoutMs: 1_000,
};

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

const stateIn = (g: Gossip, name: string) => g.members().find((m) => m.name === name)?.state;
const addrOf = (g: Gossip) => `127.0.0.1:${g.localMember().port}`;

test('three nodes on real UDP+TCP with AES-GCM: join, events, failure, wrong key', async () => {
  const nodes: Gossip[] = [];
  const events = new Map<string, GossipEvent[]>();
  try {
    for (const name of ['a', 'b', 'c']) {
      const g = createGossip({ ...FAST, name, encryptKeys: [KEY], tags: { role: name === 'a' ? 'consul' : 'node' } });
      events.set(name, []);
      g.on((e) => events.get(name)!.push(e));
      await g.start();
      nodes.push(g);
    }
    const [a, b, c] = nodes;
    assert.notEqual(a.localMember().port, 0);
    assert.equal(await b.join([addrOf(a)]), 1);
    assert.equal(await c.join([addrOf(b)]), 1);
    assert.ok(await waitFor(() => nodes.every((g) => g.members().filter((m) => m.state === 'alive').length === 3), 5_000), 'converged');
    assert.equal(c.members().find((m) => m.name === 'a')!.tags.role, 'consul');

    b.userEvent('deploy', 'v1');
    assert.ok(await waitFor(() => ['a', 'b', 'c'].every((n) => events.get(n)!.some((e) => e.type === 'user')), 3_000), 'event everywhere');

    const wrong = createGossip({ ...FAST, name: 'wrong', encryptKeys: [OTHER] });
    await wrong.start();
    nodes.push(wrong);
    await assert.rejects(wrong.join([addrOf(a)]), /No installed keys could decrypt the message/);

    await c.shutdown();
    assert.ok(await waitFor(() => stateIn(a, 'c') === 'dead' && stateIn(b, 'c') === 'dead', 10_000), 'c marked failed');
    assert.ok(events.get('a')!.some((e) => e.type === 'member-failed' && e.member.name === 'c'));
    assert.equal(stateIn(a, 'wrong'), undefined, 'the wrong-key node never became a member');
  } finally {
    for (const g of nodes) await g.shutdown();
  }
});
