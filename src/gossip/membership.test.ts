// The member state machine under incarnation skew: peers that missed a refutation hold an
// older incarnation than others, and every live member must still reach the same verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import { resolveConfig } from './config.ts';
import type { GossipEvent } from './gossip-events.ts';
import { Membership } from './membership.ts';
import type { MemberWire, PacketMsg } from './messages.ts';

/** Member `a` with peers b, c, d and x (five live: two confirmations expected, 4 s..24 s). */
function setup() {
  const clock = new ManualClock();
  const queue = new BroadcastQueue(() => 4);
  const events: GossipEvent[] = [];
  const m = new Membership({
    config: resolveConfig({ name: 'a', bindAddr: '10.0.0.1' }), clock, log: silentLogger(), queue,
    awareness: new Awareness(8), emit: (e) => events.push(e),
  }, { host: '10.0.0.1', port: 8301 });
  ['b', 'c', 'd', 'x'].forEach((n, i) => m.handleAlive({ t: 'alive', node: n, host: `10.0.0.${i + 2}`, port: 8301, tags: {}, inc: 1 }));
  queue.reset();
  events.length = 0;
  /** Everything queued for gossip since the last call. */
  const sent = (): PacketMsg[] => {
    const out = queue.take(65_000);
    queue.reset();
    return out;
  };
  const x = () => m.members.get('x')!;
  return { clock, m, events, sent, x };
}

test('a suspicion of a newer incarnation is taken up, so our verdict carries it and peers at that incarnation accept it', () => {
  const { clock, m, sent, x } = setup();
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 1, from: 'b' });
  sent();
  // x refuted once (incarnation 2) and the alive message missed us; c suspects it again.
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 2, from: 'c' });
  assert.equal(x().incarnation, 2);
  assert.deepEqual(sent(), [{ t: 'suspect', node: 'x', inc: 2, from: 'c' }], 'passed on to peers that hold the older incarnation');
  clock.advance(24_000);
  assert.equal(x().state, 'dead');
  const verdict = sent().find((msg) => msg.t === 'dead');
  assert.deepEqual(verdict, { t: 'dead', node: 'x', inc: 2, from: 'a', left: false, prune: false });
});

test('a member held failed confirms a late suspicion at a newer incarnation (which ignores its verdict), once per peer', () => {
  const { m, sent, x } = setup();
  m.handleDead({ t: 'dead', node: 'x', inc: 1, from: 'b', left: false, prune: false });
  sent();
  // c holds x at incarnation 2 and ignores our death at 1: without a confirmation its timer runs 24 s.
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 2, from: 'c' });
  assert.deepEqual(sent(), [{ t: 'suspect', node: 'x', inc: 2, from: 'a' }]);
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 2, from: 'c' });
  assert.deepEqual(sent(), [], 'answered once per incarnation and peer');
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 2, from: 'd' });
  assert.deepEqual(sent(), [{ t: 'suspect', node: 'x', inc: 2, from: 'a' }]);
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 2, from: 'd' });
  assert.deepEqual(sent(), []);
  assert.equal(x().state, 'dead');
  assert.equal(x().incarnation, 1, 'a suspicion does not change what we hold of a failed member');
  // c's verdict at 2 arrives: noted, not news.
  m.handleDead({ t: 'dead', node: 'x', inc: 2, from: 'c', left: false, prune: false });
  assert.equal(x().incarnation, 2);
  assert.deepEqual(sent(), []);
});

test('a member held failed confirms a late suspicion at its own incarnation too (its verdict missed that peer), once per peer', () => {
  const { m, sent, events } = setup();
  m.handleDead({ t: 'dead', node: 'x', inc: 1, from: 'b', left: false, prune: false });
  sent();
  events.length = 0;
  const confirmation = { t: 'suspect', node: 'x', inc: 1, from: 'a' };
  for (const [from, answer] of [['c', [confirmation]], ['d', [confirmation]], ['c', []]] as const) {
    m.handleSuspect({ t: 'suspect', node: 'x', inc: 1, from });
    assert.deepEqual(sent(), answer, from);
  }
  assert.deepEqual(events, []);
});

test('a failed probe of a member we already suspect repeats our suspicion unless a message about it is queued', () => {
  const { m, sent } = setup();
  m.probeFailed('x');
  assert.deepEqual(sent(), [{ t: 'suspect', node: 'x', inc: 1, from: 'a' }]);
  m.probeFailed('x');
  assert.deepEqual(sent(), [{ t: 'suspect', node: 'x', inc: 1, from: 'a' }], 'said again: a peer holding x failed can answer');
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 1, from: 'b' });
  m.probeFailed('x');
  assert.deepEqual(sent(), [{ t: 'suspect', node: 'x', inc: 1, from: 'b' }], "b's confirmation still queued: not replaced");
});

test('our own failed probe after a newer-incarnation suspicion still confirms at most once', () => {
  const { m, sent, x } = setup();
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 1, from: 'a' });
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 2, from: 'c' });
  sent();
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 2, from: 'a' });
  assert.deepEqual(sent(), [], 'the first accuser is no confirmation');
  m.handleSuspect({ t: 'suspect', node: 'x', inc: 1, from: 'd' });
  assert.deepEqual(sent(), [], 'an older incarnation is ignored');
  assert.equal(x().incarnation, 2);
});

test("push-pull: a peer's failed or suspect member is only suspected here, never revived first", () => {
  const { m, events, x } = setup();
  const wire = (state: MemberWire['state'], inc: number): MemberWire => ({ node: 'x', host: '10.0.0.5', port: 8301, tags: {}, inc, state });
  m.mergeRemote([wire('suspect', 2)], 'b');
  assert.equal(x().state, 'suspect');
  assert.equal(x().incarnation, 2);
  assert.deepEqual(events.map((e) => e.type), [], 'no alive step in between');
  m.handleDead({ t: 'dead', node: 'x', inc: 2, from: 'c', left: false, prune: false });
  events.length = 0;
  // The peer holds x failed at a newer incarnation than our verdict: x stays failed, no join.
  m.mergeRemote([wire('dead', 3)], 'b');
  assert.equal(x().state, 'dead');
  assert.deepEqual(events.map((e) => e.type), []);
  // An alive member at a newer incarnation does come back.
  m.mergeRemote([wire('alive', 4)], 'b');
  assert.equal(x().state, 'alive');
  assert.deepEqual(events.map((e) => e.type), ['member-join']);
  // Members we never knew are not learned from a peer's suspicion.
  m.mergeRemote([{ ...wire('dead', 1), node: 'y' }, { ...wire('suspect', 1), node: 'z' }], 'b');
  assert.equal(m.members.has('y'), false);
  assert.equal(m.members.has('z'), false);
});

test('a rumour about us at an incarnation we already refuted repeats our alive message without a new incarnation', () => {
  const { m, sent } = setup();
  m.handleSuspect({ t: 'suspect', node: 'a', inc: 1, from: 'b' });
  assert.equal(m.local().incarnation, 2, 'refuted');
  sent();
  for (const rumour of [
    { t: 'suspect', node: 'a', inc: 1, from: 'c' } as const,
    { t: 'dead', node: 'a', inc: 1, from: 'c', left: false, prune: false } as const,
  ]) {
    if (rumour.t === 'suspect') m.handleSuspect(rumour);
    else m.handleDead(rumour);
    assert.deepEqual(sent(), [{ t: 'alive', node: 'a', host: '10.0.0.1', port: 8301, tags: {}, inc: 2 }], rumour.t);
    assert.equal(m.local().incarnation, 2);
    assert.equal(m.local().state, 'alive');
  }
});

test("our own tag update counts as an alive message and our leave as a dead one, as memberlist's aliveNode and deadNode count them", () => {
  const clock = new ManualClock();
  const counts = { alive: 0, suspect: 0, dead: 0, timeout: 0 };
  const m = new Membership({
    config: resolveConfig({ name: 'a', bindAddr: '10.0.0.1' }), clock, log: silentLogger(), queue: new BroadcastQueue(() => 4),
    awareness: new Awareness(8), emit: () => undefined,
    stats: { msgAlive: () => counts.alive++, msgSuspect: () => counts.suspect++, msgDead: () => counts.dead++, degradedTimeout: () => counts.timeout++ },
  }, { host: '10.0.0.1', port: 8301 });
  m.setTags({ role: 'node' });
  assert.equal(counts.alive, 1);
  m.leaveSelf(() => undefined);
  assert.equal(counts.dead, 1);
});
