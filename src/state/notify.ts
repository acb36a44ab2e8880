// Blocking-query wake-ups. A query registers interest in exact keys, key prefixes or whole
// tables of the replica; a change wakes only the waiters registered on what changed, so one
// change costs O(affected waiters + key length), never O(all waiters). A blocked query is held
// by one Waiter object (no closures, timers or registration records of its own): tens of
// thousands of them sit idle between changes.
import { channel } from 'node:diagnostics_channel';

/** One item of interest: a whole table, an exact key, or a key prefix. */
interface WatchItem {
  table: string;
  kind: 'any' | 'key' | 'prefix';
  key: string;
}

/** Items of a set that has none yet; never added to (a set copies before its first add). */
const NO_ITEMS: readonly WatchItem[] = Object.freeze([]);

interface TableWaiters {
  any: Set<Waiter>;
  keys: Map<string, Set<Waiter>>;
  prefixes: Map<string, Set<Waiter>>;
}

/** Interest collected while a query runs; `wait()` resolves on the first relevant change. */
export class WatchSet {
  readonly #notifier: Notifier;
  #items: readonly WatchItem[] = NO_ITEMS;
  /** True while #items may also be another set's or a waiter's: the next add copies it first. */
  #shared = true;

  constructor(notifier: Notifier) {
    this.#notifier = notifier;
  }

  #add(item: WatchItem): this {
    if (this.#shared) {
      // An exact-size copy: most sets hold one item, and a pushed-to empty array reserves 17.
      this.#items = this.#items.length === 0 ? [item] : [...this.#items, item];
      this.#shared = false;
    } else (this.#items as WatchItem[]).push(item);
    return this;
  }

  /** Wakes on any change to the table. */
  addTable(table: string): this {
    return this.#add({ table, kind: 'any', key: '' });
  }

  /** Wakes when this exact key is created, updated or deleted. */
  addKey(table: string, key: string): this {
    return this.#add({ table, kind: 'key', key });
  }

  /** Wakes when any key starting with `prefix` changes. */
  addPrefix(table: string, prefix: string): this {
    return this.#add({ table, kind: 'prefix', key: prefix });
  }

  /** Adds every item of `other` (a query taking another run's shared result takes its interest too). */
  include(other: WatchSet): this {
    if (this.#items.length === 0) {
      // Share the other set's items until either set adds one.
      this.#items = other.#items;
      this.#shared = true;
      other.#shared = true;
      return this;
    }
    for (const it of other.#items) this.#add(it);
    return this;
  }

  /** Resolves `true` when woken, `false` on timeout or abort. */
  wait(timeoutMs: number, signal?: Abortable): Promise<boolean> {
    let resolve!: (woken: boolean) => void;
    const done = new Promise<boolean>((r) => { resolve = r; });
    this.notify(timeoutMs, signal, resolve);
    return done;
  }

  /**
   * As wait(), but calls `then` (synchronously, from the wake-up, timeout or abort) instead of
   * resolving a promise: a caller that keeps one object per blocked query passes that object.
   */
  notify(timeoutMs: number, signal: Abortable | undefined, then: WaitCallback): void {
    this.#shared = true; // the waiter keeps these items to unregister them
    this.#notifier.wait(this.#items, timeoutMs, signal, then);
  }
}

/** The clock the notifier needs: current time and a cancellable timer. */
export interface NotifierClock {
  now(): number;
  setTimer(ms: number, fn: () => void): { cancel(): void };
}

/**
 * What a wait listens to for its abort: an AbortSignal, or anything that calls its listeners'
 * handleEvent() once when it aborts (the HTTP transport's exchange, which needs no AbortController
 * per held query). Listeners added after the abort are not called.
 */
export interface Abortable {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: { handleEvent(): void }): void;
  removeEventListener(type: 'abort', listener: { handleEvent(): void }): void;
}

/** What a wait calls when it ends: `true` when woken by a change, `false` on timeout or abort. */
export type WaitCallback = ((woken: boolean) => void) | { woken(woken: boolean): void };

/** The callback an ended waiter is left with. */
const ENDED: WaitCallback = () => {};

/** Ends a waiter (Notifier's, keyed so only this module calls it). */
const END = Symbol('end');

/**
 * A blocked query: in the waiter sets of its items and in the notifier's deadline heap until it
 * is woken, times out or its signal aborts (it is its own abort listener).
 */
class Waiter {
  fired = false;
  readonly notifier: Notifier;
  /** What it waits on, its abort signal and its callback: dropped once it has ended (below). */
  items: readonly WatchItem[];
  /** Clock time at which the wait times out. */
  readonly at: number;
  signal: Abortable | undefined;
  then: WaitCallback;

  constructor(notifier: Notifier, items: readonly WatchItem[], at: number, signal: Abortable | undefined, then: WaitCallback) {
    this.notifier = notifier;
    this.items = items;
    this.at = at;
    this.signal = signal;
    this.then = then;
  }

  /** The signal's abort. */
  handleEvent(): void {
    this.notifier[END](this, false);
  }
}

/** How woken waiters are released: at most `batch` per turn of the event loop, the rest after `defer`. */
export interface WakeOptions {
  batch: number;
  defer: (fn: () => void) => void;
}

/**
 * Wake-ups released per event-loop turn: the answers of one batch reach the sockets (HTTP/2
 * sessions flush from an immediate) while the next batch is built.
 */
export const DEFAULT_WAKE: WakeOptions = { batch: 500, defer: (fn) => setImmediate(fn) };

/**
 * The diagnostics channel on which each wave of wake-ups is announced (with the number of queued
 * waiters), for process-wide policies that must step aside for work (src/agent/idle-memory.ts).
 */
export const WAKE_CHANNEL = 'proconsul.notify.wake';
const wakeChannel = channel(WAKE_CHANNEL);

/** The registry of blocked queries, fed by the replica after each applied batch. */
export class Notifier {
  #tables = new Map<string, TableWaiters>();
  readonly #clock: NotifierClock;
  readonly #wake: WakeOptions;
  /** Waiters a change woke that are not released yet, from #next on. */
  #queue: Waiter[] = [];
  #next = 0;
  #releasing = false;
  // Timeouts live in one min-heap with a single armed timer, so idle blocked queries cost no
  // timers of their own; entries of queries that ended early are dropped lazily.
  #deadlines: Waiter[] = [];
  #armed: { at: number; handle: { cancel(): void } } | null = null;
  #stale = 0;
  /** Number of waiters woken by changes (not by timeouts); for tests and metrics. */
  wakeups = 0;
  /** Number of queries currently blocked. */
  blocked = 0;

  constructor(clock: NotifierClock, wake: WakeOptions = DEFAULT_WAKE) {
    this.#clock = clock;
    this.#wake = wake;
  }

  /** Number of timers the notifier holds (0 or 1), for tests and metrics. */
  get timers(): number {
    return this.#armed ? 1 : 0;
  }

  /** Starts an empty watch set. */
  watchSet(): WatchSet {
    return new WatchSet(this);
  }

  #table(name: string): TableWaiters {
    let t = this.#tables.get(name);
    if (!t) {
      t = { any: new Set(), keys: new Map(), prefixes: new Map() };
      this.#tables.set(name, t);
    }
    return t;
  }

  /**
   * Registers a waiter on every item; see WatchSet.notify. `items` must not change while it
   * waits. An already aborted signal calls `then(false)` at once.
   */
  wait(items: readonly WatchItem[], timeoutMs: number, signal: Abortable | undefined, then: WaitCallback): void {
    if (signal?.aborted) {
      call(then, false);
      return;
    }
    const waiter = new Waiter(this, items, this.#clock.now() + timeoutMs, signal, then);
    this.blocked++;
    for (const it of items) {
      const t = this.#table(it.table);
      if (it.kind === 'any') t.any.add(waiter);
      else getOrCreate(it.kind === 'key' ? t.keys : t.prefixes, it.key).add(waiter);
    }
    this.#schedule(waiter);
    // Not `once`: that wraps the listener in a closure; ending the waiter removes it anyway.
    signal?.addEventListener('abort', waiter);
  }

  /** Ends a waiter once: unregisters it everywhere and resolves its wait with `woken`. */
  [END](waiter: Waiter, woken: boolean): void {
    if (waiter.fired) return;
    waiter.fired = true;
    this.blocked--;
    const signal = waiter.signal;
    if (woken || signal?.aborted) this.#stale++;
    if (this.blocked === 0) this.#clearDeadlines();
    for (const it of waiter.items) {
      // A tenant's table may have been dropped (emptied by a change) while this waiter was queued.
      const t = this.#tables.get(it.table);
      if (!t) continue;
      if (it.kind === 'any') t.any.delete(waiter);
      else {
        // Drop emptied per-key sets so that timed-out waits on unique keys leave nothing behind. A
        // woken waiter's set already left the map (changed()); the key may hold a newer set without it.
        const map = it.kind === 'key' ? t.keys : t.prefixes;
        const set = map.get(it.key);
        if (set?.delete(waiter) && set.size === 0) map.delete(it.key);
      }
      this.#dropEmpty(it.table, t);
    }
    signal?.removeEventListener('abort', waiter);
    // An ended waiter stays in the deadline heap until its time comes (entries are dropped
    // lazily), up to the query's whole wait (minutes): it must not keep its query alive. Holding
    // the callback kept each woken query's result reachable, so every answer of a wake-up wave
    // was promoted to the old generation and stayed there for the rest of its wait.
    const then = waiter.then;
    waiter.then = ENDED;
    waiter.items = NO_ITEMS;
    waiter.signal = undefined;
    call(then, woken);
  }

  /**
   * Drops a tenant's table (`<table>@<ap>/<ns>`) once no waiter is on it: each namespace ever
   * watched kept its entry, deleted namespaces' included. The default tenant's tables stay.
   */
  #dropEmpty(name: string, t: TableWaiters): void {
    if (t.any.size === 0 && t.keys.size === 0 && t.prefixes.size === 0 && name.includes('@') && this.#tables.get(name) === t) this.#tables.delete(name);
  }

  /** Number of tables with waiters (the default tenant's stay once made), for tests and metrics. */
  get tableCount(): number {
    return this.#tables.size;
  }

  /** Names of the tables held (tests). */
  tableNames(): string[] {
    return [...this.#tables.keys()];
  }

  #schedule(d: Waiter): void {
    heapPush(this.#deadlines, d);
    if (this.#stale > 1024 && this.#stale > this.#deadlines.length / 2) this.#compact();
    this.#arm();
  }

  #clearDeadlines(): void {
    this.#deadlines = [];
    this.#stale = 0;
    this.#armed?.handle.cancel();
    this.#armed = null;
  }

  #compact(): void {
    const live = this.#deadlines.filter((d) => !d.fired);
    this.#deadlines = [];
    for (const d of live) heapPush(this.#deadlines, d);
    this.#stale = 0;
  }

  #arm(): void {
    while (this.#deadlines.length && this.#deadlines[0].fired) {
      heapPop(this.#deadlines);
      this.#stale = Math.max(0, this.#stale - 1);
    }
    const next = this.#deadlines[0];
    if (!next) {
      this.#armed?.handle.cancel();
      this.#armed = null;
      return;
    }
    if (this.#armed && this.#armed.at <= next.at) return;
    this.#armed?.handle.cancel();
    const at = next.at;
    this.#armed = { at, handle: this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => this.#expire()) };
  }

  #expire(): void {
    this.#armed = null;
    const now = this.#clock.now();
    while (this.#deadlines.length && this.#deadlines[0].at <= now) {
      const d = heapPop(this.#deadlines)!;
      if (d.fired) this.#stale = Math.max(0, this.#stale - 1);
      else this[END](d, false);
    }
    this.#arm();
  }

  /** Wakes the waiters interested in `key` of `table` (exact, prefix and table-wide). */
  changed(table: string, key: string): void {
    const t = this.#tables.get(table);
    if (!t) return;
    // Every waiter of a matching set is woken, so the set leaves the table now, whole, instead of
    // emptying one delete at a time: a set of thousands shrank its table over and over, each new
    // table young and held by the (old) map, so a wake-up wave promoted them. Waiters that
    // arrive meanwhile start a new set; ending a queued waiter finds its old set gone, or not in it.
    if (t.any.size > 0) {
      this.#enqueue(t.any);
      t.any = new Set();
    }
    const exact = t.keys.get(key);
    if (exact) {
      this.#enqueue(exact);
      t.keys.delete(key);
    }
    if (t.prefixes.size > 0) {
      for (let i = 0; i <= key.length; i++) {
        const prefix = key.slice(0, i);
        const set = t.prefixes.get(prefix);
        if (set) {
          this.#enqueue(set);
          t.prefixes.delete(prefix);
        }
      }
    }
    this.#dropEmpty(table, t);
    this.#release();
  }

  /** Wakes every waiter of every table (e.g. after a snapshot restore or a re-list). */
  changedAll(): void {
    for (const t of this.#tables.values()) {
      this.#enqueue(t.any);
      for (const s of t.keys.values()) this.#enqueue(s);
      for (const s of t.prefixes.values()) this.#enqueue(s);
    }
    this.#release();
  }

  /** Queues every waiter of `set` for release. */
  #enqueue(set: Set<Waiter>): void {
    for (const w of set) this.#queue.push(w);
  }

  /** Fires queued waiters, `batch` per turn; a waiter that ended meanwhile (timeout, abort, another change) is skipped. */
  #release(): void {
    if (this.#releasing) return;
    if (this.#next < this.#queue.length && wakeChannel.hasSubscribers) wakeChannel.publish(this.#queue.length - this.#next);
    let n = 0;
    while (this.#next < this.#queue.length) {
      if (n === this.#wake.batch) {
        this.#releasing = true;
        this.#wake.defer(() => {
          this.#releasing = false;
          this.#release();
        });
        return;
      }
      const w = this.#queue[this.#next++];
      if (!w.fired) {
        this.wakeups++;
        this[END](w, true);
        n++;
      }
    }
    this.#queue = [];
    this.#next = 0;
  }
}

function call(then: WaitCallback, woken: boolean): void {
  if (typeof then === 'function') then(woken);
  else then.woken(woken);
}

function getOrCreate(map: Map<string, Set<Waiter>>, key: string): Set<Waiter> {
  let s = map.get(key);
  if (!s) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}

function heapPush(h: Waiter[], d: Waiter): void {
  h.push(d);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p].at <= h[i].at) break;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function heapPop(h: Waiter[]): Waiter | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length && last) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].at < h[m].at) m = l;
      if (r < h.length && h[r].at < h[m].at) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
  return top;
}
