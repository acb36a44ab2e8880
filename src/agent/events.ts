// User events (Consul's /v1/event): fired events kept in a 256-entry ring on the agent, with
// node/service/tag filters applied on receipt and Consul's index derived from the last event's
// UUID. With a gossip pool, fired events travel through it and every agent (this one
// included) receives them into its ring (agent/event-gossip.ts).
import { randomUUID } from 'node:crypto';
import { InternalError } from '../errors.ts';
import { eventIdToIndex, type UserEventInfo } from '../api/event.ts';

/** Consul's UserEvent JSON shape (the API client's wire type). */
export type UserEvent = UserEventInfo;

/** Serf's user event size limit (name plus payload). */
export const USER_EVENT_SIZE_LIMIT = 512;
/** Consul keeps this many recent events. */
export const EVENT_BUFFER_SIZE = 256;

/** Consul's index for an event list: the last event ID's halves XORed, as a decimal string. */
export function eventIndex(id: string): string {
  return eventIdToIndex(id).toString();
}

/** What the agent knows about itself for filtering events. */
export interface EventTarget {
  nodeName: string;
  /** Local services with their tags. */
  services(): { Service: string; Tags: string[] | null }[];
}

/** The agent's recent user events. */
export class EventBuffer {
  #events: UserEvent[] = [];
  #ltime = 0;
  #waiters = new Set<() => void>();
  readonly #target: EventTarget;
  #publish: ((ev: UserEvent) => void) | null = null;
  #internal = new Map<string, (ev: UserEvent) => void>();

  constructor(target: EventTarget) {
    this.#target = target;
  }

  /** Sends fired events through `publish` (the gossip pool) instead of straight into the ring. */
  publishVia(publish: (ev: UserEvent) => void): void {
    this.#publish = publish;
  }

  /** Fires an event; returns it as Consul's fire endpoint does. */
  fire(name: string, payload: Buffer | null, filters: { node?: string; service?: string; tag?: string }): UserEvent {
    const size = Buffer.byteLength(name) + (payload?.length ?? 0);
    if (size > USER_EVENT_SIZE_LIMIT) {
      throw new InternalError(`user event exceeds configured limit of ${USER_EVENT_SIZE_LIMIT} bytes before encoding`);
    }
    for (const f of [filters.node, filters.service, filters.tag]) if (f) compile(f);
    const ev: UserEvent = {
      ID: randomUUID(), Name: name, Payload: payload && payload.length ? payload.toString('base64') : null,
      NodeFilter: filters.node ?? '', ServiceFilter: filters.service ?? '', TagFilter: filters.tag ?? '', Version: 1, LTime: 0,
    };
    if (this.#publish) this.#publish(ev);
    else this.receive({ ...ev, LTime: ++this.#ltime });
    return ev;
  }

  /** Hands matching events named `name` to `handler` instead of the ring (Consul's internal events, such as `_rexec`). */
  handleInternal(name: string, handler: (ev: UserEvent) => void): void {
    this.#internal.set(name, handler);
  }

  /** Takes in an event from the pool (or a local fire): kept when its filters match this agent. */
  receive(ev: UserEvent): void {
    if (!this.#matches(ev)) return;
    const internal = this.#internal.get(ev.Name);
    if (internal) return internal(ev);
    this.#events.push(ev);
    if (this.#events.length > EVENT_BUFFER_SIZE) this.#events.shift();
    for (const w of [...this.#waiters]) w();
  }

  #matches(ev: UserEvent): boolean {
    if (ev.NodeFilter && !compile(ev.NodeFilter).test(this.#target.nodeName)) return false;
    if (!ev.ServiceFilter) return true;
    const svc = compile(ev.ServiceFilter);
    const tag = ev.TagFilter ? compile(ev.TagFilter) : null;
    return this.#target.services().some((s) => svc.test(s.Service) && (!tag || (s.Tags ?? []).some((t) => tag.test(t))));
  }

  /** Recent events, oldest first, optionally by name. */
  list(name?: string): UserEvent[] {
    return name ? this.#events.filter((e) => e.Name === name) : [...this.#events];
  }

  /** Resolves on the next received event or after `ms` / abort. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

function compile(re: string): RegExp {
  try {
    return new RegExp(re);
  } catch (err) {
    throw new InternalError(`Invalid filter ${JSON.stringify(re)}: ${(err as Error).message}`);
  }
}
