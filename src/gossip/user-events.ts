// Serf user events: a Lamport clock orders them, a ring of recent Lamport slots deduplicates
// them (each event is delivered once per node however often it is gossiped), and events older
// than the ring or from before our join are not delivered.
import { createHash } from 'node:crypto';
import type { BroadcastQueue } from './broadcast-queue.ts';
import type { UserEvent } from './gossip-events.ts';
import type { UserEventWire } from './messages.ts';

/** A Lamport clock. */
export class LamportClock {
  #time = 0;

  /** Current time. */
  get time(): number {
    return this.#time;
  }

  /** Advances the clock and returns the new time. */
  increment(): number {
    return ++this.#time;
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
  /** Events before this Lamport time are recorded but not delivered (set on join). */
  minTime = 0;
  readonly #slots: Array<Slot | undefined>;
  readonly #queue: BroadcastQueue;
  readonly #deliver: (e: UserEvent) => void;
  readonly #sizeLimit: number;

  constructor(o: { bufferSize: number; sizeLimit: number; queue: BroadcastQueue; deliver: (e: UserEvent) => void }) {
    this.#slots = new Array<Slot | undefined>(o.bufferSize);
    this.#queue = o.queue;
    this.#deliver = o.deliver;
    this.#sizeLimit = o.sizeLimit;
  }

  /** Fires an event from this node: delivered locally and gossiped to everyone. */
  fire(name: string, payload: Buffer, coalesce: boolean): void {
    const size = Buffer.byteLength(name) + payload.length;
    if (size > this.#sizeLimit) {
      throw new Error(`user event exceeds configured limit of ${this.#sizeLimit} bytes before encoding`);
    }
    const ltime = this.clock.increment();
    this.handle({ ltime, name, payload: payload.toString('base64'), cc: coalesce });
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

  /** Merges a peer's event clock and recent events; on join, older events are only recorded. */
  merge(remoteClock: number, events: UserEventWire[], join: boolean): void {
    if (join) this.minTime = Math.max(this.minTime, remoteClock + 1);
    this.clock.witness(remoteClock);
    for (const e of events) this.handle(e);
  }
}

function eventKey(e: UserEventWire): string {
  const h = createHash('sha256').update(e.name).update('\0').update(e.payload).digest('hex').slice(0, 16);
  return `e:${e.ltime}:${h}`;
}
