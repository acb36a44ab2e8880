// Session renewals on any server reach the leader's TTL timers. A renew on the leader re-arms
// its timer directly; a renew on a follower writes `sessionrenew/<id>` (no lease: it must
// outlive the follower) and the leader, which sees every Store batch, re-arms from that key.
// Creates need no relay: the leader arms new TTL sessions from their `session/<id>` put.
import type { Logger } from '../log.ts';
import type { Store, WatchBatch } from '../store/index.ts';
import { SESSION_PREFIX, type Replica, type SessionRecord } from '../state/index.ts';
import type { SessionTtlHooks } from '../endpoint/index.ts';
import type { SessionTimers } from './session-ttl.ts';
import { SESSION_RENEW_PREFIX, decodeJson } from './servers.ts';

/** Dependencies of the relay. */
export interface SessionRenewDeps {
  store: Store;
  replica: Replica;
  timers: SessionTimers;
  logger: Logger;
  isLeader(): boolean;
}

/** The SessionTtlHooks of a server in a shared-store datacenter. */
export class SessionRenewRelay implements SessionTtlHooks {
  readonly #d: SessionRenewDeps;
  /** Ids with a relay write in flight; a renew arriving meanwhile asks for one more. */
  readonly #inFlight = new Map<string, boolean>();
  /** Renew keys seen, so the leader can delete them with their session. */
  readonly #renewKeys = new Set<string>();

  constructor(deps: SessionRenewDeps) {
    this.#d = deps;
  }

  /** After a create or renew on this server. */
  armed(s: SessionRecord): void {
    if (this.#d.isLeader()) {
      this.#d.timers.armed(s);
      return;
    }
    // Only renews carry indexes (they come from the replica); creates reach the leader by their put.
    if (!('CreateIndex' in s)) return;
    if (this.#inFlight.has(s.ID)) {
      this.#inFlight.set(s.ID, true);
      return;
    }
    this.#inFlight.set(s.ID, false);
    void this.#relay(s.ID);
  }

  /** After a destroy on this server. */
  cleared(id: string): void {
    this.#d.timers.cleared(id);
  }

  async #relay(id: string): Promise<void> {
    try {
      for (;;) {
        const value = Buffer.from(JSON.stringify({ ID: id, At: Date.now() }));
        await this.#d.store.txn({ success: [{ type: 'put', key: SESSION_RENEW_PREFIX + id, value }] });
        if (!this.#inFlight.get(id)) break;
        this.#inFlight.set(id, false);
      }
    } catch (err) {
      this.#d.logger.warn({ err, session: id }, 'session renew could not reach the leader');
    } finally {
      this.#inFlight.delete(id);
    }
  }

  /** Follows the shared store: the leader arms new and renewed sessions and drops stale renew keys. */
  observe(b: WatchBatch): void {
    for (const ev of b.events) {
      const key = ev.kv.key;
      if (key.startsWith(SESSION_RENEW_PREFIX)) {
        const id = key.slice(SESSION_RENEW_PREFIX.length);
        if (ev.type === 'delete') { this.#renewKeys.delete(id); continue; }
        this.#renewKeys.add(id);
        const s = this.#d.replica.sessions.get(id);
        if (s && this.#d.isLeader()) this.#d.timers.armed(s);
      } else if (key.startsWith(SESSION_PREFIX)) {
        this.#sessionEvent(ev.type, key.slice(SESSION_PREFIX.length), ev.kv.value, ev.kv.version);
      }
    }
  }

  #sessionEvent(type: 'put' | 'delete', id: string, value: Uint8Array, version: number): void {
    if (!this.#d.isLeader()) return;
    if (type === 'put') {
      const rec = version === 1 ? decodeJson<SessionRecord>(value) : null;
      if (rec?.TTL) this.#d.timers.armed(rec);
      return;
    }
    this.#d.timers.cleared(id);
    if (this.#renewKeys.has(id)) {
      this.#d.store.txn({ success: [{ type: 'delete', key: SESSION_RENEW_PREFIX + id }] })
        .catch((err) => this.#d.logger.warn({ err, session: id }, 'stale session renew key not deleted'));
    }
  }
}
