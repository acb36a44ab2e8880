// Serf user events: a Lamport clock orders them, a ring of recent Lamport slots deduplicates
// them (each event is delivered once per node however often it is gossiped), and events older
// than the ring or from before our join are not delivered.
//
// The clock holds the next time to use, as Serf's does: it starts at 1, a fired event takes the
// current time and advances it, and witnessing t moves it past t. A push-pull carries a clock
// no event has used yet, so it is witnessed as clock - 1 and is itself the join horizon; idle
// exchanges then leave every clock alone. (Witnessing the clock itself ratcheted clocks apart on
// every push-pull, and a joiner's horizon of clock + 1 passed the next event of a member with a
// lower clock, which the joiner then ignored for good.)
import { createHash } from 'node:crypto';
import type { BroadcastQueue } from './broadcast-queue.ts';
import type { UserEvent } from './gossip-events.ts';
import { packetSize, type UserEventWire } from './messages.ts';

/** A Lamport clock (Serf's LamportClock): `time` is the next time to use. */
export class LamportClock {
  #time = 1;

  /** Current time. */
  get time(): number {
    return this.#time;
  }

  /** Returns the current time and advances the clock past it. */
  next(): number {
    return this.#time++;
  }

  /** Moves the clock past a time seen from a peer. */
  witness(t: number): void {
    if (t >= this.#time) this.#time = t + 1;
  }
}

interface Slot {
  ltime: number;
  events: Array<{ name: string; payload: string; cc: boolean }>;
}

/** User event deduplication, delivery and re-gossip. */
export class UserEvents {
  readonly clock = new LamportClock();
  /** Events before this Lamport time are recorded but not delivered (set on join and on restore). */
  minTime = 0;
  /** The latest Lamport time of an event delivered here, fired or received (Serf's snapshot event-clock). */
  lastEventTime = 0;
  readonly #slots: Array<Slot | undefined>;
  readonly #queue: BroadcastQueue;
  readonly #deliver: (e: UserEvent) => void;
  readonly #sizeLimit: number;
  readonly #maxEncoded: number;

  /** `maxEncoded`: the largest encoded event a gossip packet carries (default: no check). */
  constructor(o: { bufferSize: number; sizeLimit: number; maxEncoded?: number; queue: BroadcastQueue; deliver: (e: UserEvent) => void }) {
    this.#slots = new Array<Slot | undefined>(o.bufferSize);
    this.#queue = o.queue;
    this.#deliver = o.deliver;
    this.#sizeLimit = o.sizeLimit;
    this.#maxEncoded = o.maxEncoded ?? Infinity;
  }

  /** Fires an event from this node: delivered locally and gossiped to everyone. */
  fire(name: string, payload: Buffer, coalesce: boolean): void {
    const size = Buffer.byteLength(name) + payload.length;
    if (size > this.#sizeLimit) {
      throw new Error(`user event exceeds configured limit of ${this.#sizeLimit} bytes before encoding`);
    }
    // Serf checks the encoded size too. Ours grows by a third (base64 in JSON): an event that
    // no packet can carry would sit in the broadcast queue unsent, reaching peers only by push-pull.
    const e = { ltime: this.clock.time, name, payload: payload.toString('base64'), cc: coalesce };
    if (packetSize({ t: 'user', ...e }) > this.#maxEncoded) {
      throw new Error(`encoded user event exceeds configured limit of ${this.#maxEncoded} bytes after encoding`);
    }
    this.clock.next();
    this.handle(e);
  }

  /** Handles an event from anywhere; true when it was new to this node. */
  handle(e: UserEventWire): boolean {
    this.clock.witness(e.ltime);
    if (e.ltime < this.minTime) return false;
    const size = this.#slots.length;
    if (this.clock.time > size && e.ltime < this.clock.time - size) return false;
    const idx = e.ltime % size;
    let slot = this.#slots[idx];
    if (slot && slot.ltime === e.ltime && slot.events.some((x) => x.name === e.name && x.payload === e.payload)) return false;
    if (!slot || slot.ltime !== e.ltime) {
      slot = { ltime: e.ltime, events: [] };
      this.#slots[idx] = slot;
    }
    slot.events.push({ name: e.name, payload: e.payload, cc: e.cc });
    this.#queue.enqueue(eventKey(e), { t: 'user', ...e });
    this.lastEventTime = Math.max(this.lastEventTime, e.ltime);
    this.#deliver({ ltime: e.ltime, name: e.name, payload: Buffer.from(e.payload, 'base64'), coalesce: e.cc });
    return true;
  }

  /** Recent events for a push-pull exchange. */
  recent(): UserEventWire[] {
    const out: UserEventWire[] = [];
    for (const slot of this.#slots) {
      if (!slot) continue;
      for (const e of slot.events) out.push({ ltime: slot.ltime, name: e.name, payload: e.payload, cc: e.cc });
    }
    return out;
  }

  /**
   * Restores the latest event time a snapshot recorded, as Serf's Create does: the clock moves
   * past it (the next event gets a later time, never one already used) and events up to it are
   * not delivered again.
   */
  restore(lastEventTime: number): void {
    if (!(lastEventTime > 0)) return;
    this.clock.witness(lastEventTime);
    this.minTime = Math.max(this.minTime, lastEventTime + 1);
    this.lastEventTime = Math.max(this.lastEventTime, lastEventTime);
  }

  /**
   * Merges a peer's push-pull state: its event clock (the next time it would use) and recent
   * events. On a join that ignores old events, events before the peer's clock are not delivered.
   */
  merge(remoteClock: number, events: UserEventWire[], join: boolean): void {
    if (remoteClock > 0) this.clock.witness(remoteClock - 1);
    if (join) this.minTime = Math.max(this.minTime, remoteClock);
    for (const e of events) this.handle(e);
  }
}

function eventKey(e: UserEventWire): string {
  const h = createHash('sha256').update(e.name).update('\0').update(e.payload).digest('hex').slice(0, 16);
  return `e:${e.ltime}:${h}`;
}
