// Push-pull state sync over a stream: both sides send their whole member table, event clock
// and recent user events, then merge the other's. Used by join and by periodic anti-entropy
// (which is what heals a partition and repairs missed gossip).
import type { Address } from './address.ts';
import type { Membership } from './membership.ts';
import type { PushPullMsg } from './messages.ts';
import type { UserEvents } from './user-events.ts';
import type { Wire } from './wire.ts';

/** The state one side sends. */
export function localState(m: Membership, ev: UserEvents, join: boolean): PushPullMsg {
  return { t: 'pushpull', join, from: m.name, members: m.snapshotWire(), eventClock: ev.clock.time, events: ev.recent() };
}

/** Exchanges state with the node at `to` and merges its answer; returns the peer's name. */
export async function pushPull(wire: Wire, m: Membership, ev: UserEvents, to: Address, join: boolean): Promise<string> {
  const resp = await wire.request(to, localState(m, ev, join));
  if (resp.t !== 'pushpull') throw new Error(`unexpected ${resp.t} answer to push-pull`);
  m.mergeRemote(resp.members, resp.from);
  ev.merge(resp.eventClock, resp.events, join);
  return resp.from;
}

/** Answers a peer's push-pull: our state as it was, then theirs merged in. */
export function answerPushPull(m: Membership, ev: UserEvents, req: PushPullMsg): PushPullMsg {
  const mine = localState(m, ev, req.join);
  m.mergeRemote(req.members, req.from);
  ev.merge(req.eventClock, req.events, false);
  return mine;
}
