// Blocking-query wake-ups. A query registers interest in exact keys, key prefixes or whole
// tables of the replica; a change wakes only the waiters registered on what changed, so one
// change costs O(affected waiters + key length), never O(all waiters).

interface Registration {
  set: Set<Waiter>;
  map: Map<string, Set<Waiter>> | null;
  key: string;
}

type Waiter = { fire: () => void; fired: boolean; regs: Registration[] };

interface TableWaiters {
  any: Set<Waiter>;
  keys: Map<string, Set<Waiter>>;
  prefixes: Map<string, Set<Waiter>>;
}

/** Interest collected while a query runs; `wait()` resolves on the first relevant change. */
export class WatchSet {
  readonly #notifier: Notifier;
  readonly #items: { table: string; kind: 'any' | 'key' | 'prefix'; key: string }[] = [];

  constructor(notifier: Notifier) {
    this.#notifier = notifier;
  }

  /** Wakes on any change to the table. */
  addTable(table: string): this {
    this.#items.push({ table, kind: 'any', key: '' });
    return this;
  }

  /** Wakes when this exact key is created, updated or deleted. */
  addKey(table: string, key: string): this {
    this.#items.push({ table, kind: 'key', key });
    return this;
  }

  /** Wakes when any key starting with `prefix` changes. */
  addPrefix(table: string, prefix: string): this {
    this.#items.push({ table, kind: 'prefix', key: prefix });
    return this;
  }

  /** Resolves `true` when woken, `false` on timeout or abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.#notifier.wait(this.#items, timeoutMs, signal);
  }
}

/** The registry of blocked queries, fed by the replica after each applied batch. */
export class Notifier {
  #tables = new Map<string, TableWaiters>();
  #setTimer: (ms: number, fn: () => void) => { cancel(): void };
  /** Number of waiters woken by changes (not by timeouts); for tests and metrics. */
  wakeups = 0;
  /** Number of queries currently blocked. */
  blocked = 0;

  constructor(setTimer: (ms: number, fn: () => void) => { cancel(): void }) {
    this.#setTimer = setTimer;
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

  /** Registers a waiter on every item; see WatchSet.wait. */
  wait(items: { table: string; kind: 'any' | 'key' | 'prefix'; key: string }[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: { cancel(): void } | null = null;
      const finish = (woken: boolean): void => {
        if (waiter.fired) return;
        waiter.fired = true;
        this.blocked--;
        for (const r of waiter.regs) {
          r.set.delete(waiter);
          // Drop empty per-key sets so that timed-out waits on unique keys leave nothing behind.
          if (r.map && r.set.size === 0 && r.map.get(r.key) === r.set) r.map.delete(r.key);
        }
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const onAbort = (): void => finish(false);
      const waiter: Waiter = { fire: () => { this.wakeups++; finish(true); }, fired: false, regs: [] };
      this.blocked++;
      for (const it of items) {
        const t = this.#table(it.table);
        const map = it.kind === 'any' ? null : it.kind === 'key' ? t.keys : t.prefixes;
        const set = map ? getOrCreate(map, it.key) : t.any;
        set.add(waiter);
        waiter.regs.push({ set, map, key: it.key });
      }
      timer = this.#setTimer(timeoutMs, () => finish(false));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Wakes the waiters interested in `key` of `table` (exact, prefix and table-wide). */
  changed(table: string, key: string): void {
    const t = this.#tables.get(table);
    if (!t) return;
    fireAll(t.any);
    const exact = t.keys.get(key);
    if (exact) fireAll(exact);
    if (t.prefixes.size === 0) return;
    for (let i = 0; i <= key.length; i++) {
      const p = key.slice(0, i);
      const set = t.prefixes.get(p);
      if (set) fireAll(set);
    }
  }

  /** Wakes every waiter of every table (e.g. after a snapshot restore or a re-list). */
  changedAll(): void {
    for (const t of this.#tables.values()) {
      fireAll(t.any);
      for (const s of t.keys.values()) fireAll(s);
      for (const s of t.prefixes.values()) fireAll(s);
    }
  }
}

function getOrCreate(map: Map<string, Set<Waiter>>, key: string): Set<Waiter> {
  let s = map.get(key);
  if (!s) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}

function fireAll(set: Set<Waiter>): void {
  for (const w of [...set]) w.fire();
}
