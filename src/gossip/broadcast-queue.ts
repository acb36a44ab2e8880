// The transmit-limited broadcast queue (memberlist's TransmitLimitedQueue): messages are
// piggybacked on outgoing packets, least-transmitted first, each sent at most
// retransmitMult × ceil(log10(n+1)) times; a newer message about the same node replaces the old.
import { packetSize, type PacketMsg } from './messages.ts';

interface Entry {
  key: string;
  msg: PacketMsg;
  size: number;
  transmits: number;
  id: number;
  done: (() => void) | undefined;
}

/** A queue of pending broadcasts. */
export class BroadcastQueue {
  #entries = new Map<string, Entry>();
  #nextId = 0;
  readonly #limit: () => number;

  /** `limit` gives the current retransmit limit (it grows with the cluster). */
  constructor(limit: () => number) {
    this.#limit = limit;
  }

  /** Queues `msg` under `key`, replacing any older message with that key; `done` runs once it is fully sent or replaced. */
  enqueue(key: string, msg: PacketMsg, done?: () => void): void {
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      old.done?.();
    }
    this.#entries.set(key, { key, msg, size: packetSize(msg), transmits: 0, id: this.#nextId++, done });
  }

  /** Takes broadcasts fitting in `budget` bytes, counting one transmission for each. */
  take(budget: number): PacketMsg[] {
    if (this.#entries.size === 0) return [];
    const limit = this.#limit();
    const ordered = [...this.#entries.values()].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const out: PacketMsg[] = [];
    let left = budget;
    for (const e of ordered) {
      if (e.size > left) continue;
      left -= e.size;
      out.push(e.msg);
      if (++e.transmits >= limit) {
        this.#entries.delete(e.key);
        e.done?.();
      }
    }
    return out;
  }

  /** Whether a message is queued under `key`. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Pending broadcasts. */
  get size(): number {
    return this.#entries.size;
  }

  /** Pending broadcasts whose key starts with `prefix` (a walk over the queue: not for hot paths). */
  countPrefixed(prefix: string): number {
    let n = 0;
    for (const k of this.#entries.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  /** Drops everything, running pending `done` callbacks. */
  reset(): void {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const e of entries) e.done?.();
  }
}
