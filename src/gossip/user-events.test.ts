// User event Lamport times against push-pull and join: idle exchanges leave the clocks alone,
// the join horizon is the peer's clock, and an event fired after a join reaches the joiner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BroadcastQueue } from './broadcast-queue.ts';
import { Simulation } from './simulation.ts';
import { UserEvents } from './user-events.ts';

interface Node { ev: UserEvents; got: string[] }

function node(): Node {
  const got: string[] = [];
  const ev = new UserEvents({
    bufferSize: 512, sizeLimit: 512, queue: new BroadcastQueue(() => 4), deliver: (e) => got.push(e.payload.toString()),
  });
  return { ev, got };
}

/** One push-pull from `a` to `b`, as push-pull.ts runs it: `b` answers with its state as it was. */
function pushPull(a: Node, b: Node, join: boolean): void {
  const req = { clock: a.ev.clock.time, events: a.ev.recent() };
  const resp = { clock: b.ev.clock.time, events: b.ev.recent() };
  b.ev.merge(req.clock, req.events, false);
  a.ev.merge(resp.clock, resp.events, join);
}

/** Gossips every event `from` knows to `to` (what the broadcast queue does). */
function gossip(from: Node, to: Node): void {
  for (const e of from.ev.recent()) to.ev.handle(e);
}

test('a fresh clock gives the first event time 1; push-pulls without events leave every clock at 1', () => {
  const [a, b, c] = [node(), node(), node()];
  pushPull(b, a, true);
  pushPull(c, a, true);
  for (let i = 0; i < 5; i++) {
    pushPull(a, b, false);
    pushPull(c, b, false);
    pushPull(a, c, false);
  }
  assert.deepEqual([a, b, c].map((n) => n.ev.clock.time), [1, 1, 1]);
  a.ev.fire('deploy', Buffer.from('v1'), false);
  assert.equal(a.ev.recent()[0].ltime, 1);
  assert.equal(a.ev.clock.time, 2);
});

test('a member joining after idle push-pulls receives the next event of every member', () => {
  // The CI failure: a pool formed by joins and push-pulls, no events yet; witnessing each
  // peer's clock itself moved a's clock past b's and c's, and d's join horizon (a's clock + 1)
  // then passed the times b and c gave their next events: d ignored them, by gossip and by
  // push-pull alike.
  const [a, b, c, d] = [node(), node(), node(), node()];
  pushPull(b, a, true);
  pushPull(c, a, true);
  pushPull(c, a, false);
  pushPull(d, a, true);
  const all = [a, b, c, d];
  for (const [i, firer] of [b, c, a].entries()) {
    firer.ev.fire('deploy', Buffer.from(`v${i}`), false);
    for (const n of all) for (const m of all) if (n !== m) gossip(n, m);
  }
  for (const n of all) for (const m of all) if (n !== m) pushPull(n, m, false);
  for (const [i, n] of all.entries()) assert.deepEqual(n.got, ['v0', 'v1', 'v2'], `node ${'abcd'[i]}`);
});

test('the join horizon is the peer\'s clock: older events are recorded but not delivered, its next one is', () => {
  const [a, b] = [node(), node()];
  a.ev.fire('old', Buffer.from('x'), false);
  pushPull(b, a, true);
  assert.deepEqual(b.got, [], 'the event from before the join is not replayed');
  assert.equal(b.ev.minTime, a.ev.clock.time);
  a.ev.fire('new', Buffer.from('y'), false);
  gossip(a, b);
  assert.deepEqual(b.got, ['y']);
});

test('simulated pool: after idle push-pulls a joiner receives the next event of every member, whichever it joined', async () => {
  for (const target of ['node0', 'node1', 'node2']) {
    const sim = new Simulation({ seed: 21 });
    await sim.addMany(3);
    await sim.until(() => sim.converged(), 10_000);
    await sim.run(120_000, 50);
    const late = await sim.add('late');
    await sim.joinNow(late, [`${sim.addr(target).host}:8301`]);
    for (const name of ['node0', 'node1', 'node2']) sim.nodes.get(name)!.gossip.userEvent('deploy', name);
    await sim.run(5_000);
    for (const [name, n] of sim.nodes) {
      const got = n.events.flatMap((e) => (e.type === 'user' ? [e.event.payload.toString()] : [])).sort();
      assert.deepEqual(got, ['node0', 'node1', 'node2'], `${name}, late joined ${target}`);
    }
  }
});

test('an event too large for any gossip packet once encoded is refused, not queued unsent', () => {
  const queue = new BroadcastQueue(() => 4);
  const got: string[] = [];
  const ev = new UserEvents({ bufferSize: 512, sizeLimit: 1024, maxEncoded: 1336, queue, deliver: (e) => got.push(e.name) });
  assert.throws(() => ev.fire('consul:event:deploy', Buffer.alloc(1000, 1), false), /encoded user event exceeds configured limit of 1336 bytes after encoding/);
  assert.equal(queue.size, 0);
  assert.equal(ev.clock.time, 1, 'no Lamport time used');
  ev.fire('consul:event:deploy', Buffer.alloc(900, 1), false);
  assert.deepEqual(got, ['consul:event:deploy']);
  assert.ok(queue.take(1336).length === 1, 'the largest event that passes fits a packet');
});
