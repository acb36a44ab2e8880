// A client agent's DNS cache (dns_config.use_cache), shaped like Consul's agent cache. Service
// and node answers are background-refreshed: one blocking read per watched path (shared by every
// question it answers) re-fetches them when what they depend on changes, so they are served
// from the cache while the servers are reachable; their age is the time since that refresh lost
// contact with the servers (Consul's definition). Prepared-query answers are simple entries:
// their age is the time since they were fetched. An entry older than cache_max_age (0: no max
// age) is fetched again before it is answered, and a failure then is the lookup's failure.
// Entries nobody asked for in 3 days go (Consul's LastGetTTL), and at most maxEntries are kept,
// least recently used first out. No timer per entry: a failing watch waits out its back-off on
// one timer.
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Abortable } from '../state/notify.ts';

/** Consul's cache LastGetTTL: an entry unused this long is dropped. */
export const LAST_GET_TTL_MS = 72 * 3600_000;
const DEFAULT_MAX_ENTRIES = 1024;
/** Consul's refresh back-off: none for 3 failures, then 2^n s up to a minute. */
const BACKOFF_MIN_FAILURES = 3;
const BACKOFF_MAX_MS = 60_000;

/** A question to cache: its key, and how it is kept fresh. */
export interface CacheQuestion {
  /** Identifies the answer (token, name, type, class). */
  key: string;
  /** A blocking read whose index moves when the answer may change; absent: a simple entry. */
  watch?: WatchSpec;
}

/** A blocking read: the path (with its query), and what identifies it among others (path and token). */
export interface WatchSpec {
  key: string;
  path: string;
  headers: Record<string, string>;
}

/** An answer as fetched, with the index to watch from (0: unknown). */
export interface Fetched<V> {
  value: V;
  index: number;
}

/** What the cache needs. */
export interface DnsCacheDeps<V> {
  clock: Clock;
  /** cache_max_age in ms (0: no max age). */
  maxAgeMs: number;
  maxEntries?: number;
  /**
   * Fetches the server's answer to a question (throws when no server answers); `signal` is the
   * asker's (absent for background refreshes).
   */
  fetch(q: CacheQuestion, signal?: Abortable): Promise<Fetched<V>>;
  /** A blocking read past `index`: resolves with the read's index then (throws on failure). */
  watch(w: WatchSpec, index: number, signal: AbortSignal): Promise<number>;
  logger: Logger;
  random?: () => number;
}

interface Entry<V> {
  q: CacheQuestion;
  value: V;
  fetchedAt: number;
  lastGet: number;
  pending?: Promise<V>;
}

interface Watch {
  spec: WatchSpec;
  index: number;
  /** When the refresh last failed after a success (0: in contact). */
  lostContactAt: number;
  entries: Set<string>;
  abort: AbortController;
}

/** The cache; `get` answers a question from it, fetching when it must. */
export class DnsCache<V> {
  readonly #d: DnsCacheDeps<V>;
  readonly #entries = new Map<string, Entry<V>>();
  readonly #misses = new Map<string, Promise<V>>();
  readonly #watches = new Map<string, Watch>();
  #closed = false;

  constructor(deps: DnsCacheDeps<V>) {
    this.#d = deps;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Watches (blocking reads) running now. */
  get watching(): number {
    return this.#watches.size;
  }

  /**
   * The cached answer when fresh enough, else a fetched one (which is cached). `signal` aborts
   * the fetch this call starts (the asker left); a fetch already running for the question is joined.
   */
  async get(q: CacheQuestion, signal?: Abortable): Promise<V> {
    const e = this.#lookup(q);
    if (!e) return this.#miss(q, signal);
    const max = this.#d.maxAgeMs;
    if (max > 0 && this.#age(e, this.#d.clock.now()) > max) return this.#refetch(e, signal);
    return e.value;
  }

  /** The cached answer when get() would answer it without fetching (counted as a use), else undefined. */
  peek(q: CacheQuestion): V | undefined {
    const e = this.#lookup(q);
    if (!e) return undefined;
    const max = this.#d.maxAgeMs;
    return max > 0 && this.#age(e, this.#d.clock.now()) > max ? undefined : e.value;
  }

  /** The entry for `q`, marked used now; undefined when there is none (or it went unused too long). */
  #lookup(q: CacheQuestion): Entry<V> | undefined {
    const now = this.#d.clock.now();
    const e = this.#entries.get(q.key);
    if (!e) return undefined;
    if (now - e.lastGet > LAST_GET_TTL_MS) {
      this.#evict(q.key);
      return undefined;
    }
    // Most recently used last.
    this.#entries.delete(q.key);
    this.#entries.set(q.key, e);
    e.lastGet = now;
    return e;
  }

  /** Stops every watch and forgets every entry. */
  close(): void {
    this.#closed = true;
    for (const w of this.#watches.values()) w.abort.abort();
    this.#watches.clear();
    this.#entries.clear();
  }

  // Consul's age: since the fetch for simple entries; for refreshed ones, 0 while the refresh is
  // in contact, else since contact was lost or the entry was last fetched, whichever is later.
  #age(e: Entry<V>, now: number): number {
    if (!e.q.watch) return now - e.fetchedAt;
    const lost = this.#watches.get(e.q.watch.key)?.lostContactAt ?? 0;
    return lost === 0 ? 0 : now - Math.max(lost, e.fetchedAt);
  }

  async #miss(q: CacheQuestion, signal?: Abortable): Promise<V> {
    const inFlight = this.#misses.get(q.key);
    if (inFlight) return inFlight;
    const p = this.#d.fetch(q, signal).then((f) => {
      this.#store(q, f);
      return f.value;
    }).finally(() => this.#misses.delete(q.key));
    this.#misses.set(q.key, p);
    return p;
  }

  #store(q: CacheQuestion, f: Fetched<V>): void {
    if (this.#closed) return;
    const now = this.#d.clock.now();
    this.#entries.set(q.key, { q, value: f.value, fetchedAt: now, lastGet: now });
    if (q.watch) this.#attach(q.key, q.watch, f.index);
    const max = this.#d.maxEntries ?? DEFAULT_MAX_ENTRIES;
    while (this.#entries.size > max) this.#evict(this.#entries.keys().next().value!);
  }

  #refetch(e: Entry<V>, signal?: Abortable): Promise<V> {
    e.pending ??= this.#d.fetch(e.q, signal).then((f) => {
      e.value = f.value;
      e.fetchedAt = this.#d.clock.now();
      return f.value;
    }).finally(() => { e.pending = undefined; });
    return e.pending;
  }

  #evict(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    if (!e.q.watch) return;
    const w = this.#watches.get(e.q.watch.key);
    if (!w) return;
    w.entries.delete(key);
    if (w.entries.size === 0) {
      w.abort.abort();
      this.#watches.delete(e.q.watch.key);
    }
  }

  #attach(entryKey: string, spec: WatchSpec, index: number): void {
    let w = this.#watches.get(spec.key);
    if (!w) {
      w = { spec, index, lostContactAt: 0, entries: new Set(), abort: new AbortController() };
      this.#watches.set(spec.key, w);
      void this.#run(w);
    } else if (index < w.index) {
      // Fetched from before what the watch has seen (a lagging server, or no index known): the
      // watch's next return, change or timeout, re-fetches its answers.
      w.index = index;
    }
    w.entries.add(entryKey);
  }

  // The background refresh: block on the path; when its index moves, fetch its answers again.
  async #run(w: Watch): Promise<void> {
    let failures = 0;
    const signal = w.abort.signal;
    while (!signal.aborted) {
      let next: number;
      try {
        next = await this.#d.watch(w.spec, w.index, signal);
        // Without an index the read cannot block: a hot loop unless treated as a failure.
        if (!(next > 0)) throw new Error('the blocking read returned no index');
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        if (w.lostContactAt === 0) w.lostContactAt = this.#d.clock.now();
        this.#d.logger.debug({ path: w.spec.path, error: (err as Error).message }, 'DNS cache refresh failed');
        await this.#backOff(failures, signal);
        continue;
      }
      failures = 0;
      w.lostContactAt = 0;
      // An index of 0 (unknown when fetched) or one that went backwards: the answers may be older.
      const changed = next !== w.index || w.index === 0;
      w.index = next < w.index ? 0 : next;
      if (changed && !signal.aborted) await this.#refreshAll(w);
    }
  }

  async #refreshAll(w: Watch): Promise<void> {
    await Promise.all([...w.entries].map(async (key) => {
      const e = this.#entries.get(key);
      if (!e) return;
      try {
        // A fetch already running may have been answered from before the change: fetch again after it.
        if (e.pending) await e.pending.catch(() => undefined);
        await this.#refetch(e);
      } catch (err) {
        // The last good answer stays, as in Consul's cache.
        this.#d.logger.debug({ path: w.spec.path, error: (err as Error).message }, 'DNS cache re-fetch failed');
      }
    }));
  }

  #backOff(failures: number, signal: AbortSignal): Promise<void> {
    if (failures <= BACKOFF_MIN_FAILURES) return Promise.resolve();
    const base = Math.min(BACKOFF_MAX_MS, 2 ** (failures - BACKOFF_MIN_FAILURES) * 1000);
    const wait = base + (this.#d.random ?? Math.random)() * base;
    return new Promise((resolve) => {
      const t = this.#d.clock.setTimer(wait, resolve);
      signal.addEventListener('abort', () => (t.cancel(), resolve()), { once: true });
    });
  }
}
