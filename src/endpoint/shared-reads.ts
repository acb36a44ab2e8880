// Shared read results: identical reads (same route, parameters and token) at the same replica
// revision compute their result once. One change wakes every watcher of a hot service at the
// same moment; they all re-run the same query against the same state, so the first computes and
// the rest take its result (and its watch registrations), and transports render it once.
import type { WatchSet } from '../state/index.ts';
import type { QueryRun } from './query.ts';

interface Entry {
  run: QueryRun<unknown>;
  /** The watch set the first run filled: later takers register the same interest. */
  watches: WatchSet;
}

/**
 * Results of the current replica revision by share key. A result is only ever handed out at the
 * revision it was computed at: the first use after the revision moves drops every entry.
 * Values handed out are shared, so callers must not mutate them.
 */
export class SharedReads {
  readonly #revision: () => number;
  readonly #maxEntries: number;
  #entries = new Map<string, Entry>();
  #at = -1;
  /** Runs answered from another run's result (for tests and metrics). */
  hits = 0;

  /** `revision` reads the replica's applied revision. */
  constructor(revision: () => number, maxEntries = 10_000) {
    this.#revision = revision;
    this.#maxEntries = maxEntries;
  }

  /** Number of results held (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  /** The result of `compute` for `key` at the current revision, computed at most once per revision. */
  run<T>(key: string, ws: WatchSet, compute: (ws: WatchSet) => QueryRun<T>): QueryRun<T> {
    const rev = this.#revision();
    if (rev !== this.#at) {
      this.#entries.clear();
      this.#at = rev;
    }
    const hit = this.#entries.get(key);
    if (hit) {
      this.hits++;
      ws.include(hit.watches);
      return hit.run as QueryRun<T>;
    }
    const run = compute(ws);
    // Computing never moves the revision (reads do not write); the bound keeps a revision with
    // many distinct reads from holding them all.
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
    this.#entries.set(key, { run, watches: ws });
    return run;
  }
}
