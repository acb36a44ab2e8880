// Session renewals on any server reach the leader's TTL timers. A renew on the leader re-arms
// its timer directly; a renew on a follower writes `sessionrenew/<id>` (no lease: it must
// outlive the follower) and the leader, which sees every Store batch, re-arms from that key.
// Creates need no relay: the leader arms new TTL sessions from their `session/<id>` put. A
// non-default tenant's keys sit under its prefix (`t/<ap>/<ns>/session…`), purged with it.
import type { Logger } from '../log.ts';
import type { Compare, Store, WatchBatch } from '../store/index.ts';
import {
  SESSION_PREFIX, SESSION_RENEW_PREFIX, TENANT_PREFIX, parseTenantKey, sessionStoreKey, type Replica, type SessionRecord,
} from '../state/index.ts';
import type { SessionTtlHooks } from '../endpoint/index.ts';
import type { SessionTimers } from './session-ttl.ts';
import { decodeJson } from './servers.ts';

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
  /** Renew keys seen (store key by session id), so the leader can delete them with their session. */
  readonly #renewKeys = new Map<string, string>();

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
    // Only while the session is the one renewed: a renew racing its destroy (or its namespace's
    // purge) would otherwise leave a renew key no session delete ever comes to clean up.
    const alive: Compare = { key: sessionStoreKey(s), target: 'createRevision', op: '=', value: (s as { CreateIndex: number }).CreateIndex };
    void this.#relay(s.ID, sessionStoreKey(s, SESSION_RENEW_PREFIX), alive);
  }

  /** After a destroy on this server. */
  cleared(id: string): void {
    this.#d.timers.cleared(id);
  }

  async #relay(id: string, key: string, alive: Compare): Promise<void> {
    try {
      for (;;) {
        const value = Buffer.from(JSON.stringify({ ID: id, At: Date.now() }));
        const res = await this.#d.store.txn({ compares: [alive], success: [{ type: 'put', key, value }] });
        if (!res.succeeded || !this.#inFlight.get(id)) break;
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
      const key = innerKey(ev.kv.key);
      if (key === null) continue;
      if (key.startsWith(SESSION_RENEW_PREFIX)) {
        const id = key.slice(SESSION_RENEW_PREFIX.length);
        if (ev.type === 'delete') { this.#renewKeys.delete(id); continue; }
        this.#renewKeys.set(id, ev.kv.key);
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
    const renewKey = this.#renewKeys.get(id);
    if (renewKey !== undefined) {
      this.#d.store.txn({ success: [{ type: 'delete', key: renewKey }] })
        .catch((err) => this.#d.logger.warn({ err, session: id }, 'stale session renew key not deleted'));
    }
  }
}

/** A store key with a non-default tenant's prefix taken off (null for a malformed tenant key). */
function innerKey(key: string): string | null {
  if (!key.startsWith(TENANT_PREFIX)) return key;
  return parseTenantKey(key)?.inner ?? null;
}
