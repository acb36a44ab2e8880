// A distributed semaphore as Consul's api.Semaphore: each contender holds `<prefix>/<session>`,
// and `<prefix>/.lock` holds {"Limit":n,"Holders":{…}} updated with check-and-set.

import { posix } from 'node:path';
import type { Clock } from '../clock.ts';
import type { CallOptions, ConsulClient } from './client.ts';
import { Holding, LockError, holdCall, readExact, removeUnheld, resolveHoldOptions, wrapFailure, writeExact, type ExactKVPair } from './lock-holding.ts';

/** Session name used when none is given. */
export const DEFAULT_SEMAPHORE_SESSION_NAME = 'Consul API Semaphore';
/** Session TTL used when none is given. */
export const DEFAULT_SEMAPHORE_SESSION_TTL = '15s';
/** Longest single blocking wait while acquiring, in milliseconds. */
export const DEFAULT_SEMAPHORE_WAIT_TIME = 15_000;
/** The coordination key inside the prefix. */
export const DEFAULT_SEMAPHORE_KEY = '.lock';
/** The flags that mark semaphore keys (Go's SemaphoreFlagValue). */
export const SEMAPHORE_FLAG_VALUE = 0xe0f69a2baa414de0n;

/** Options of a Semaphore (Go's SemaphoreOptions; durations in milliseconds). */
export interface SemaphoreOptions {
  prefix: string;
  /** Namespace of the keys and the session (Go's SemaphoreOptions.Namespace); default the client's. */
  namespace?: string;
  /** Number of holders allowed; every contender must agree. */
  limit: number;
  /** Value of this contender's entry. */
  value?: Buffer | string;
  session?: string;
  sessionName?: string;
  sessionTTL?: string;
  monitorRetries?: number;
  monitorRetryTime?: number;
  semaphoreWaitTime?: number;
  semaphoreTryOnce?: boolean;
  clock?: Clock;
}

/** The coordination record under `<prefix>/.lock`. */
interface SemaphoreLock {
  Limit: number;
  Holders: Record<string, boolean>;
}

/** Go's path.Join (posix.join cleans the same way for non-empty results). */
const join = posix.join;

/** A counting semaphore over a KV prefix (Go's api.Semaphore). */
export class Semaphore {
  readonly #c: ConsulClient;
  readonly #o: Required<Omit<SemaphoreOptions, 'value' | 'session' | 'clock'>> & SemaphoreOptions;
  readonly #h: Holding;
  readonly #call: CallOptions;
  #held = false;

  /** Validates options as Go's SemaphoreOpts does (`missing prefix`, `semaphore limit must be positive`). */
  constructor(client: ConsulClient, options: SemaphoreOptions) {
    if (!options.prefix) throw new Error('missing prefix');
    if (!(options.limit > 0)) throw new Error('semaphore limit must be positive');
    const hold = resolveHoldOptions(options, { sessionName: DEFAULT_SEMAPHORE_SESSION_NAME, sessionTTL: DEFAULT_SEMAPHORE_SESSION_TTL });
    this.#c = client;
    this.#o = {
      ...options,
      ...hold,
      semaphoreWaitTime: options.semaphoreWaitTime || DEFAULT_SEMAPHORE_WAIT_TIME,
      semaphoreTryOnce: options.semaphoreTryOnce ?? false,
    };
    this.#call = holdCall(options.namespace);
    this.#h = new Holding(client, options.clock, this.#call);
  }

  get #lockKey(): string {
    return join(this.#o.prefix, DEFAULT_SEMAPHORE_KEY);
  }

  /**
   * Takes a slot, waiting until one is free (or semaphoreWaitTime with semaphoreTryOnce). Resolves
   * to a signal that aborts when the slot is lost or released, or null when stopped or out of time.
   */
  acquire(stop?: AbortSignal): Promise<AbortSignal | null> {
    return this.#h.serial(async () => {
      if (this.#held) throw new LockError('held', 'Semaphore already held');
      const o = this.#o;
      // Behavior delete: a dead contender's entry disappears, which is how others prune it.
      const session = await this.#h.openSession(o.session, { Name: o.sessionName, TTL: o.sessionTTL, Behavior: 'delete' }, o.sessionTTL);
      let ok = false;
      try {
        await this.#contend(session);
        ok = await this.#acquire(session, stop);
      } finally {
        if (!ok) await this.#h.closeSession();
      }
      if (!ok) return null;
      this.#held = true;
      return this.#h.watch(async (index, signal) => {
        const r = await readExact(this.#c, o.prefix, { ...this.#call, recurse: true, consistent: true, index, signal });
        const lock = this.#prune(this.#decode(this.#find(r.pairs)), r.pairs);
        return { holding: lock.Holders[session] === true, index: r.index };
      }, o.monitorRetries, o.monitorRetryTime);
    });
  }

  /** Creates this contender's entry `<prefix>/<session>`, held by the session. */
  async #contend(session: string): Promise<void> {
    let made = false;
    let error = '<nil>';
    try {
      made = await writeExact(this.#c, join(this.#o.prefix, session), this.#o.value ?? '', { flags: SEMAPHORE_FLAG_VALUE, acquire: session }, this.#call);
    } catch (err) {
      error = (err as Error).message;
    }
    if (!made) throw new Error(`failed to make contender entry: ${error}`);
  }

  /** The acquisition loop of Go's Acquire(): false when stopped or out of time. */
  async #acquire(session: string, stop?: AbortSignal): Promise<boolean> {
    const o = this.#o;
    const start = this.#h.now();
    let index = 0;
    for (let attempts = 0; ; attempts++) {
      if (stop?.aborted) return false;
      const wait = this.#h.waitLeft(start, attempts, o.semaphoreWaitTime, o.semaphoreTryOnce);
      if (wait === null) return false;
      let read: { pairs: ExactKVPair[]; index: number };
      try {
        read = await readExact(this.#c, o.prefix, { ...this.#call, recurse: true, index, wait, signal: stop });
      } catch (err) {
        if (stop?.aborted) return false;
        throw new Error(`failed to read prefix: ${(err as Error).message}`, { cause: err });
      }
      const pair = this.#find(read.pairs);
      if (pair.Flags !== SEMAPHORE_FLAG_VALUE) throw new LockError('conflict', 'Existing key does not match semaphore use');
      const lock = this.#decode(pair);
      if (lock.Limit !== o.limit) throw new Error(`semaphore limit conflict (lock: ${lock.Limit}, local: ${o.limit})`);
      this.#prune(lock, read.pairs);
      if (Object.keys(lock.Holders).length >= lock.Limit) {
        index = read.index;
        continue;
      }
      lock.Holders[session] = true;
      // A failed check-and-set is a race with another contender: read again and retry.
      if (await this.#swap(lock, pair.ModifyIndex)) return true;
    }
  }

  /** Writes the coordination record if it is still at `modifyIndex` (0: only if absent). */
  async #swap(lock: SemaphoreLock, modifyIndex: number): Promise<boolean> {
    const holders = Object.fromEntries(Object.keys(lock.Holders).sort().map((k) => [k, lock.Holders[k]]));
    const value = JSON.stringify({ Limit: lock.Limit, Holders: holders });
    return wrapFailure('failed to update lock', () => writeExact(this.#c, this.#lockKey, value, { flags: SEMAPHORE_FLAG_VALUE, cas: modifyIndex }, this.#call));
  }

  #find(pairs: ExactKVPair[]): ExactKVPair {
    const key = this.#lockKey;
    return pairs.find((p) => p.Key === key)
      ?? { Key: key, Flags: SEMAPHORE_FLAG_VALUE, Value: null, LockIndex: 0, CreateIndex: 0, ModifyIndex: 0 };
  }

  /** Decodes the coordination record; an absent value is an empty record at our limit. */
  #decode(pair: ExactKVPair): SemaphoreLock {
    if (!pair.Value) return { Limit: this.#o.limit, Holders: {} };
    try {
      const raw = JSON.parse(Buffer.from(pair.Value, 'base64').toString('utf8')) as Partial<SemaphoreLock>;
      return { Limit: Number(raw.Limit ?? 0), Holders: { ...(raw.Holders ?? {}) } };
    } catch (err) {
      throw new Error(`lock decoding failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Drops holders whose session no longer holds any key under the prefix. */
  #prune(lock: SemaphoreLock, pairs: ExactKVPair[]): SemaphoreLock {
    const alive = new Set(pairs.map((p) => p.Session).filter(Boolean));
    for (const holder of Object.keys(lock.Holders)) if (!alive.has(holder)) delete lock.Holders[holder];
    return lock;
  }

  /** Gives the slot back, deletes the contender entry and destroys a session it created. */
  release(): Promise<void> {
    return this.#h.serial(async () => {
      if (!this.#held) throw new LockError('not-held', 'Semaphore not held');
      this.#held = false;
      await this.#h.letGo(async (session) => {
        for (;;) {
          const pair = (await readExact(this.#c, this.#lockKey, this.#call)).pairs[0] ?? this.#find([]);
          const lock = this.#decode(pair);
          if (!(session in lock.Holders)) break;
          delete lock.Holders[session];
          if (await this.#swap(lock, pair.ModifyIndex)) break;
        }
        await this.#c.kv.delete(join(this.#o.prefix, session), this.#call);
      });
    });
  }

  /** Deletes the coordination key when no live holder remains; throws `Semaphore in use` otherwise. */
  destroy(): Promise<void> {
    return this.#h.serial(async () => {
      if (this.#held) throw new LockError('held', 'Semaphore already held');
      const { pairs } = await wrapFailure('failed to read prefix', () => readExact(this.#c, this.#o.prefix, { ...this.#call, recurse: true }));
      const pair = this.#find(pairs);
      if (pair.ModifyIndex === 0) return;
      if (pair.Flags !== SEMAPHORE_FLAG_VALUE) throw new LockError('conflict', 'Existing key does not match semaphore use');
      const lock = this.#prune(this.#decode(pair), pairs);
      if (Object.keys(lock.Holders).length > 0) throw new LockError('in-use', 'Semaphore in use');
      await removeUnheld(this.#c, this.#lockKey, pair.ModifyIndex, 'semaphore', 'Semaphore in use', this.#call);
    });
  }
}
