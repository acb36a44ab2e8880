// The agent's cache of server reads (Consul's agent/cache): a `?cached` read of a registered type
// is answered from memory. Background-refresh types keep one blocking query per entry running
// against the servers so reads see the latest result; simple types are fetched on a miss, or when
// older than the caller's Cache-Control allows. Entries expire a while after their last read
// (LastGetTTL, 3 days by default) and the cache is bounded: the least recently read go first.
import type { Clock, TimerHandle } from '../../clock.ts';
import type { Abortable } from '../../state/notify.ts';

/** How a type of data is cached (Consul's cache.RegisterOptions). */
export interface CacheTypeOptions {
  /** Keep a blocking query running in the background after the first fetch (Consul's Refresh). */
  refresh: boolean;
  /** The fetch blocks on an index: a read with a minimum index waits for a newer entry. */
  supportsBlocking: boolean;
  /** How long an entry lives after its last read (default: Consul's 72 h). */
  lastGetTtlMs?: number;
  /** The background blocking query's wait (default: Consul's 10 minutes). */
  queryTimeoutMs?: number;
  /** An error that ends background refresh (Consul: ACL not found, the token is gone). */
  fatal?: (err: unknown) => boolean;
  /**
   * An error after which the value held must not be answered: the token was refused (deleted, or
   * no longer allowed to read it). Consul keeps answering the last value; here the next reads
   * fetch again and get the refusal.
   */
  revokes?: (err: unknown) => boolean;
}

/** What one fetch from the servers is asked for. */
export interface FetchOptions {
  /** Block until the result's index passes this (0: answer at once). */
  minIndex: number;
  /** The blocking wait to ask the servers for (0 for types that do not block). */
  timeoutMs: number;
  /** Aborted when the entry is evicted or the cache closed. */
  signal: AbortSignal;
}

/** A fetched value and its index (X-Consul-Index). */
export interface FetchResult<V> {
  value: V;
  index: number;
}

/** Fetches one entry's value from the servers. */
export type Fetch<V> = (opts: FetchOptions) => Promise<FetchResult<V>>;

/** One cached read (Consul's cache.RequestInfo). */
export interface CacheRequest {
  type: string;
  /** The entry's key: datacenter, token and every input that changes the answer. */
  key: string;
  /** ?index: wait for an entry newer than this (blocking types only). */
  minIndex?: number;
  /** How long a blocking read waits before answering what it has. */
  timeoutMs?: number;
  /** Cache-Control max-age: an older entry of a simple type is fetched again. */
  maxAgeMs?: number;
  /** Cache-Control must-revalidate (or max-age=0): a simple type is fetched again first. */
  mustRevalidate?: boolean;
  /** Cache-Control stale-if-error: a failed fetch answers an entry no older than this instead. */
  staleIfErrorMs?: number;
  /** The caller leaving ends its wait (not the fetch, which other readers may share). */
  signal?: Abortable;
}

/** How a read was answered (Consul's cache.ResultMeta). */
export interface ResultMeta {
  /** Answered from the cache without waiting for a fetch. */
  hit: boolean;
  /**
   * Simple types: time since the value was fetched. Refresh types: 0 while the background query
   * keeps up, else the time since it lost contact with the servers.
   */
  ageMs: number;
  index: number;
}

/** Size and count bounds of the cache. */
export interface CacheLimits {
  maxEntries: number;
  /** Total of the values' sizes (as `sizeOf` measures them). */
  maxBytes: number;
  /**
   * Entries of refresh types, each holding a background query (on a client agent, a connection to
   * a server) for as long as it lives: a caller could otherwise leave thousands held with as many
   * quick reads. Consul's goroutines on a multiplexed connection cost little; sockets do.
   */
  maxRefreshing: number;
}

/** Dependencies of the cache. */
export interface AgentCacheDeps<V> {
  clock: Clock;
  random?: () => number;
  limits?: Partial<CacheLimits>;
  /** The memory a value holds, for maxBytes (default: every value counts 0). */
  sizeOf?: (value: V) => number;
  /** Counts Consul's consul.cache.* events (per type where Consul has the type in the name). */
  count?: (event: CacheEvent, type: string) => void;
  /**
   * cache.entry_fetch_rate and entry_fetch_max_burst: each entry's fetches (the first and every
   * refresh) take a token from its own bucket, waiting for one when it is empty (Consul's
   * per-entry rate.Limiter; defaults: no limit, a burst of 2).
   */
  entryFetchRate?: number;
  entryFetchMaxBurst?: number;
}

/** Events Consul counts as consul.cache.<type>.hit / miss_new / miss_block and consul.cache.fetch_success / fetch_error / evict_expired. */
export type CacheEvent = 'hit' | 'miss_new' | 'miss_block' | 'fetch_success' | 'fetch_error' | 'evict_expired';

/** Consul's defaults: entries live 3 days after their last read; background queries wait 10 minutes. */
export const DEFAULT_LAST_GET_TTL_MS = 72 * 3600_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 10 * 60_000;
/** Consul's cache.entry_fetch_max_burst default (the rate's is unlimited). */
export const DEFAULT_ENTRY_FETCH_MAX_BURST = 2;
const DEFAULT_LIMITS: CacheLimits = { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, maxRefreshing: 1024 };
/** Consul keeps a background query connected once it has blocked this long (past yamux's 30 s keepalive). */
const CONNECTED_AFTER_MS = 31_000;
/** Failed refreshes before backing off, and the longest backoff (Consul's CacheRefreshBackoffMin and MaxWait). */
const BACKOFF_MIN_ATTEMPTS = 3;
const BACKOFF_MAX_MS = 60_000;

/**
 * The readers waiting on one fetch. Each removes itself when it stops waiting (its ?wait ran out,
 * it left), so a fetch held for minutes keeps no reader that is gone.
 */
interface Waiter {
  done: boolean;
  readers: Set<() => void>;
}

interface Entry<V> {
  key: string;
  typeName: string;
  type: Required<Omit<CacheTypeOptions, 'fatal' | 'revokes'>> & Pick<CacheTypeOptions, 'fatal' | 'revokes'>;
  fetch: Fetch<V>;
  valid: boolean;
  value: V | undefined;
  index: number;
  /** The last fetch's error; set only when newer than the value. */
  error: unknown;
  fetchedAt: number;
  /** When background refresh first failed since its last success (0: connected). */
  lostContactAt: number;
  fetching: boolean;
  waiter: Waiter;
  abort: AbortController | null;
  refreshTimer: TimerHandle | null;
  attempt: number;
  expiresAt: number;
  size: number;
  evicted: boolean;
  /** The entry's fetch-rate bucket: tokens at `at` (ms); below 0 while fetches are reserved ahead. */
  tokens: number;
  tokensAt: number;
}

function waiter(): Waiter {
  return { done: false, readers: new Set() };
}

function wake(w: Waiter): void {
  w.done = true;
  for (const r of w.readers) r();
  w.readers.clear();
}

/** Thrown to a reader that left before its answer came. */
const READER_LEFT = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });

/** The agent-local cache of server reads. */
export class AgentCache<V> {
  readonly #types = new Map<string, Entry<V>['type']>();
  /** In read order: the first entry is the least recently read. */
  readonly #entries = new Map<string, Entry<V>>();
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #limits: CacheLimits;
  readonly #sizeOf: (value: V) => number;
  readonly #count: (event: CacheEvent, type: string) => void;
  #bytes = 0;
  /** Entries of refresh types held now. */
  #refreshing = 0;
  #sweep: { at: number; timer: TimerHandle } | null = null;
  #closed = false;
  /** Fetches per millisecond per entry (Infinity: unlimited) and the bucket's size. */
  readonly #ratePerMs: number;
  readonly #burst: number;

  constructor(deps: AgentCacheDeps<V>) {
    this.#clock = deps.clock;
    this.#random = deps.random ?? Math.random;
    this.#limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.#sizeOf = deps.sizeOf ?? (() => 0);
    this.#count = deps.count ?? (() => {});
    this.#ratePerMs = (deps.entryFetchRate ?? Infinity) / 1000;
    this.#burst = deps.entryFetchMaxBurst ?? DEFAULT_ENTRY_FETCH_MAX_BURST;
  }

  /** Registers a cacheable type under `name`. */
  registerType(name: string, opts: CacheTypeOptions): void {
    this.#types.set(name, {
      refresh: opts.refresh, supportsBlocking: opts.supportsBlocking, fatal: opts.fatal, revokes: opts.revokes,
      lastGetTtlMs: opts.lastGetTtlMs || DEFAULT_LAST_GET_TTL_MS, queryTimeoutMs: opts.queryTimeoutMs || DEFAULT_QUERY_TIMEOUT_MS,
    });
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The value for `req`: from the cache when it satisfies the request, else after a fetch (one
   * fetch per key, however many readers wait on it). A blocking read whose wait runs out answers
   * the entry it has. A failed fetch is thrown, unless stale-if-error allows the entry held.
   */
  async get(req: CacheRequest, fetch: Fetch<V>): Promise<{ value: V; meta: ResultMeta }> {
    const type = this.#types.get(req.type);
    if (!type) throw new Error(`unknown type in cache: ${req.type}`);
    if (this.#closed) return { value: (await fetch({ minIndex: 0, timeoutMs: 0, signal: new AbortController().signal })).value, meta: { hit: false, ageMs: 0, index: 0 } };
    let deadline = req.timeoutMs ? this.#clock.now() + req.timeoutMs : 0;
    /** The wait ran out before any value: the first one answers, whatever its index. */
    let late = false;
    let first = true;
    let mustRevalidate = req.mustRevalidate === true;
    for (;;) {
      const e = this.#entries.get(req.key);
      if (late && e?.valid && e.error === undefined) return { value: e.value as V, meta: { hit: false, ageMs: 0, index: e.index } };
      // After this read's own fetch failed, a simple type's entry answers only through stale-if-error.
      if (e && (first || e.error === undefined || e.type.refresh) && this.#usable(e, req, mustRevalidate)) {
        this.#touch(e);
        if (first) this.#count('hit', req.type);
        return { value: e.value as V, meta: { hit: first, ageMs: this.#age(e), index: e.index } };
      }
      if (!first && e && e.error !== undefined) {
        const age = this.#clock.now() - e.fetchedAt;
        if (e.valid && (req.staleIfErrorMs ?? 0) > 0 && age <= req.staleIfErrorMs!) {
          this.#touch(e);
          return { value: e.value as V, meta: { hit: true, ageMs: age, index: e.index } };
        }
        throw e.error;
      }
      if (first) this.#count((req.minIndex ?? 0) > 0 ? 'miss_block' : 'miss_new', req.type);
      const fetching = this.#fetch(req.key, req.type, type, fetch);
      first = false;
      mustRevalidate = false;
      const outcome = await this.#wait(fetching, deadline, req.signal);
      if (outcome === 'left') throw READER_LEFT;
      // Closed meanwhile (the agent stopping): no new entry or fetch.
      if (this.#closed) throw new Error('agent cache closed');
      if (outcome === 'timeout') {
        const cur = this.#entries.get(req.key);
        if (cur?.valid) return { value: cur.value as V, meta: { hit: false, ageMs: 0, index: cur.index } };
        // Nothing to answer yet (the first fetch is still out): wait for it, with no timer re-armed at a passed deadline.
        late = true;
        deadline = 0;
      }
    }
  }

  /** Stops every background fetch and drops every entry. */
  close(): void {
    this.#closed = true;
    for (const e of [...this.#entries.values()]) this.#evict(e);
    this.#sweep?.timer.cancel();
    this.#sweep = null;
  }

  #usable(e: Entry<V>, req: CacheRequest, mustRevalidate: boolean): boolean {
    if (!e.valid) return false;
    // A blocking read at or past the entry's index waits for the next value.
    if (e.type.supportsBlocking && (req.minIndex ?? 0) > 0 && req.minIndex! >= e.index) return false;
    // Cache-Control applies to simple types only: refresh types are kept current instead.
    if (e.type.refresh) return true;
    if ((req.maxAgeMs ?? 0) > 0 && this.#clock.now() - e.fetchedAt > req.maxAgeMs!) return false;
    return !mustRevalidate;
  }

  #age(e: Entry<V>): number {
    if (e.type.refresh) return e.lostContactAt ? this.#clock.now() - e.lostContactAt : 0;
    return this.#clock.now() - e.fetchedAt;
  }

  /** A read: the entry lives another LastGetTTL and becomes the most recently read. */
  #touch(e: Entry<V>): void {
    e.expiresAt = this.#clock.now() + e.type.lastGetTtlMs;
    this.#entries.delete(e.key);
    this.#entries.set(e.key, e);
  }

  /** The running fetch's waiter for `key`, starting one (and the entry) when none runs. */
  #fetch(key: string, typeName: string, type: Entry<V>['type'], fetch: Fetch<V>): Waiter {
    let e = this.#entries.get(key);
    if (e?.fetching) return e.waiter;
    if (!e) {
      e = {
        key, typeName, type, fetch, valid: false, value: undefined, index: 0, error: undefined, fetchedAt: 0, lostContactAt: 0,
        fetching: false, waiter: waiter(), abort: null, refreshTimer: null, attempt: 0, expiresAt: this.#clock.now() + type.lastGetTtlMs, size: 0, evicted: false,
        tokens: this.#burst, tokensAt: this.#clock.now(),
      };
      this.#entries.set(key, e);
      if (type.refresh) this.#refreshing++;
      this.#scheduleSweep(e.expiresAt);
      this.#bound(e);
    }
    e.fetch = fetch;
    // A read that asked for a fetch now does not wait for a backed-off refresh.
    e.refreshTimer?.cancel();
    e.refreshTimer = null;
    this.#start(e);
    return e.waiter;
  }

  #start(e: Entry<V>): void {
    e.fetching = true;
    e.waiter = waiter();
    const wait = this.#ratePerMs === Infinity ? 0 : this.#reserve(e);
    if (wait === 0) return this.#run(e);
    // Readers wait on the entry's waiter meanwhile; eviction cancels the timer (refreshTimer).
    e.refreshTimer = this.#clock.setTimer(wait, () => {
      e.refreshTimer = null;
      if (!e.evicted) this.#run(e);
    });
  }

  /** Takes a token from the entry's bucket (Go's rate.Limiter reservation): how long to wait for it. */
  #reserve(e: Entry<V>): number {
    const now = this.#clock.now();
    e.tokens = Math.min(this.#burst, e.tokens + (now - e.tokensAt) * this.#ratePerMs) - 1;
    e.tokensAt = now;
    return e.tokens >= 0 ? 0 : Math.ceil(-e.tokens / this.#ratePerMs);
  }

  #run(e: Entry<V>): void {
    const abort = e.abort = new AbortController();
    const blocking = e.type.supportsBlocking;
    // While disconnected, a background query that blocks past the keepalive is connected again.
    const connected = e.type.refresh && e.index > 0 && e.type.queryTimeoutMs > CONNECTED_AFTER_MS
      ? this.#clock.setTimer(CONNECTED_AFTER_MS, () => { e.lostContactAt = 0; }) : null;
    e.fetch({ minIndex: blocking ? e.index : 0, timeoutMs: blocking ? e.type.queryTimeoutMs : 0, signal: abort.signal }).then(
      (r) => this.#settle(e, connected, r, undefined),
      (err: unknown) => this.#settle(e, connected, undefined, err ?? new Error('fetch failed')),
    );
  }

  #settle(e: Entry<V>, connected: TimerHandle | null, r: FetchResult<V> | undefined, err: unknown): void {
    connected?.cancel();
    e.fetching = false;
    e.abort = null;
    const w = e.waiter;
    if (e.evicted) return wake(w);
    const now = this.#clock.now();
    this.#count(r ? 'fetch_success' : 'fetch_error', e.typeName);
    e.error = err;
    if (r) {
      this.#bytes -= e.size;
      e.value = r.value;
      e.size = this.#sizeOf(r.value);
      this.#bytes += e.size;
      // Index 0 is never valid data; 1 keeps the next background query blocking.
      e.index = Math.max(1, r.index);
      e.fetchedAt = now;
      e.valid = true;
      // A result at index 0 would never block: count it as a failure so refresh backs off.
      e.attempt = r.index > 0 ? 0 : e.attempt + 1;
      e.lostContactAt = 0;
    } else {
      e.attempt++;
      if (e.type.refresh && !e.lostContactAt) e.lostContactAt = now;
      // Refused: the value goes, and the next fetch asks afresh rather than blocking at its index.
      if (e.valid && e.type.revokes?.(err)) {
        this.#bytes -= e.size;
        Object.assign(e, { valid: false, value: undefined, size: 0, index: 0, lostContactAt: 0 });
      }
    }
    wake(w);
    if (r) this.#bound(e);
    if (!e.type.refresh || this.#closed || e.evicted || (err !== undefined && e.type.fatal?.(err))) return;
    const wait = this.#backoff(e.attempt);
    if (wait === 0) return this.#start(e);
    e.refreshTimer = this.#clock.setTimer(wait, () => {
      e.refreshTimer = null;
      if (!e.evicted && !e.fetching) this.#start(e);
    });
  }

  /** Consul's backOffWait: none for the first failures, then doubling from 2 s up to a minute, plus up to as much again. */
  #backoff(failures: number): number {
    if (failures <= BACKOFF_MIN_ATTEMPTS) return 0;
    const shift = failures - BACKOFF_MIN_ATTEMPTS;
    const wait = shift < 31 ? Math.min(2 ** shift * 1000, BACKOFF_MAX_MS) : BACKOFF_MAX_MS;
    return wait + Math.floor(this.#random() * wait);
  }

  /** Waits for the fetch `w` to settle, the deadline (0: none) or the reader leaving. */
  #wait(w: Waiter, deadline: number, signal: Abortable | undefined): Promise<'done' | 'timeout' | 'left'> {
    if (signal?.aborted) return Promise.resolve('left');
    if (w.done) return Promise.resolve('done');
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      const left = { handleEvent: () => finish('left') };
      const woken = (): void => finish('done');
      const finish = (how: 'done' | 'timeout' | 'left'): void => {
        timer?.cancel();
        signal?.removeEventListener('abort', left);
        w.readers.delete(woken);
        resolve(how);
      };
      if (deadline) timer = this.#clock.setTimer(Math.max(0, deadline - this.#clock.now()), () => finish('timeout'));
      signal?.addEventListener('abort', left);
      w.readers.add(woken);
    });
  }

  /** Evicts the least recently read entries (never `keep`) past the count, size or background-query bound. */
  #bound(keep: Entry<V>): void {
    for (const e of this.#entries.values()) {
      const over = this.#entries.size > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes;
      if (!over && this.#refreshing <= this.#limits.maxRefreshing) return;
      if (e !== keep && (over || e.type.refresh)) this.#evict(e);
    }
  }

  #evict(e: Entry<V>): void {
    e.evicted = true;
    if (e.type.refresh) this.#refreshing--;
    this.#entries.delete(e.key);
    this.#bytes -= e.size;
    e.refreshTimer?.cancel();
    e.refreshTimer = null;
    e.abort?.abort();
    // A fetch still waiting for its rate token never runs now: its readers are let go (a running
    // one settles through the abort above).
    if (e.fetching && !e.abort) {
      e.fetching = false;
      wake(e.waiter);
    }
  }

  #scheduleSweep(at: number): void {
    if (this.#sweep && this.#sweep.at <= at) return;
    this.#sweep?.timer.cancel();
    this.#sweep = { at, timer: this.#clock.setTimer(at - this.#clock.now(), () => this.#expire()) };
  }

  /** Drops entries unread for their LastGetTTL (their background queries stop) and re-arms for the next. */
  #expire(): void {
    this.#sweep = null;
    const now = this.#clock.now();
    let next = Infinity;
    for (const e of [...this.#entries.values()]) {
      if (e.expiresAt <= now) {
        this.#evict(e);
        this.#count('evict_expired', e.typeName);
      } else next = Math.min(next, e.expiresAt);
    }
    if (next !== Infinity && !this.#closed) this.#scheduleSweep(next);
  }
}
