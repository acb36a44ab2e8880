// Client-side leader election as Consul's api.Lock: one key acquired with a session and marked
// with LockFlagValue, blocking queries to wait for it, and a monitor that reports the lock lost.

import type { Clock } from '../clock.ts';
import type { CallOptions, ConsulClient } from './client.ts';
import { Holding, LockError, holdCall, readExact, removeUnheld, resolveHoldOptions, wrapFailure, writeExact, type ExactKVPair } from './lock-holding.ts';
import type { SessionEntry } from './types.ts';

/** Session name used when none is given (Go's DefaultLockSessionName). */
export const DEFAULT_LOCK_SESSION_NAME = 'Consul API Lock';
/** Session TTL used when none is given. */
export const DEFAULT_LOCK_SESSION_TTL = '15s';
/** Longest single blocking wait while acquiring, in milliseconds. */
export const DEFAULT_LOCK_WAIT_TIME = 15_000;
/** Pause after an acquire refused by a lock-delay, in milliseconds. */
export const DEFAULT_LOCK_RETRY_TIME = 5_000;
export { DEFAULT_MONITOR_RETRY_TIME } from './lock-holding.ts';
/** The flags that mark a key as a Lock (Go's LockFlagValue, above 2^53, hence a BigInt). */
export const LOCK_FLAG_VALUE = 0x2ddccbc058a50c18n;

/** Options of a Lock (Go's LockOptions; durations in milliseconds). */
export interface LockOptions {
  /** The key to lock; must be writable. */
  key: string;
  /** Namespace of the key and the session (Go's LockOptions.Namespace); default the client's. */
  namespace?: string;
  /** Value written to the key while held. */
  value?: Buffer | string;
  /** An existing session to lock with; otherwise one is created and renewed. */
  session?: string;
  /** Options of the session to create (then sessionName, sessionTTL and lockDelay are ignored). */
  sessionOpts?: SessionEntry;
  sessionName?: string;
  sessionTTL?: string;
  /** Retryable monitor errors tolerated in a row before the lock is reported lost (default 0). */
  monitorRetries?: number;
  monitorRetryTime?: number;
  /** Longest blocking wait; with lockTryOnce, the whole time allowed to acquire. */
  lockWaitTime?: number;
  /** Give up after lockWaitTime instead of waiting forever. */
  lockTryOnce?: boolean;
  /** Lock-delay of the created session, in milliseconds (server default 15s). */
  lockDelay?: number;
  /** Clock for the client's own waits (tests); real timers when absent. */
  clock?: Clock;
}

type Resolved = Required<Omit<LockOptions, 'value' | 'session' | 'sessionOpts' | 'clock' | 'lockDelay'>> & LockOptions;

/** A distributed mutex on one key (Go's api.Lock). */
export class Lock {
  readonly #c: ConsulClient;
  readonly #o: Resolved;
  readonly #h: Holding;
  readonly #call: CallOptions;
  #held = false;

  /** Validates options as Go's LockOpts does; throws `missing key` or `invalid SessionTTL: …`. */
  constructor(client: ConsulClient, options: LockOptions) {
    if (!options.key) throw new Error('missing key');
    const hold = resolveHoldOptions(options, { sessionName: DEFAULT_LOCK_SESSION_NAME, sessionTTL: DEFAULT_LOCK_SESSION_TTL });
    this.#c = client;
    this.#o = {
      ...options,
      ...hold,
      lockWaitTime: options.lockWaitTime || DEFAULT_LOCK_WAIT_TIME,
      lockTryOnce: options.lockTryOnce ?? false,
    };
    this.#call = holdCall(options.namespace);
    this.#h = new Holding(client, options.clock, this.#call);
  }

  /**
   * Acquires the lock, waiting as long as it takes (or lockWaitTime with lockTryOnce). Resolves to
   * a signal that aborts when the lock is lost or released, or to null when `stop` aborted or the
   * one-shot wait ran out. Throws LockError (`Lock already held`, `Existing key does not match
   * lock use`) or the Go client's wrapped errors (`failed to read lock: …`).
   */
  lock(stop?: AbortSignal): Promise<AbortSignal | null> {
    return this.#h.serial(async () => {
      if (this.#held) throw new LockError('held', 'Lock already held');
      const o = this.#o;
      const entry = o.sessionOpts ?? { Name: o.sessionName, TTL: o.sessionTTL, LockDelay: (o.lockDelay ?? 0) * 1e6 };
      const session = await this.#h.openSession(o.session, entry, o.sessionTTL);
      let ok = false;
      try {
        ok = await this.#acquire(session, stop);
      } finally {
        if (!ok) await this.#h.closeSession();
      }
      if (!ok) return null;
      this.#held = true;
      return this.#h.watch(async (index, signal) => {
        const r = await readExact(this.#c, o.key, { ...this.#call, consistent: true, index, signal });
        return { holding: r.pairs[0]?.Session === session, index: r.index };
      }, o.monitorRetries, o.monitorRetryTime);
    });
  }

  /** The acquisition loop of Go's Lock(): false when stopped or out of time. */
  async #acquire(session: string, stop?: AbortSignal): Promise<boolean> {
    const o = this.#o;
    const start = this.#h.now();
    let index = 0;
    for (let attempts = 0; ; attempts++) {
      if (stop?.aborted) return false;
      const wait = this.#h.waitLeft(start, attempts, o.lockWaitTime, o.lockTryOnce);
      if (wait === null) return false;
      const seen = await this.#read(index, wait, stop, 'failed to read lock');
      if (!seen) return false;
      if (seen.pair && seen.pair.Flags !== LOCK_FLAG_VALUE) throw new LockError('conflict', 'Existing key does not match lock use');
      if (seen.pair?.Session === session) return true;
      if (seen.pair?.Session) {
        index = seen.index;
        continue;
      }
      if (await this.#tryAcquire(session)) return true;
      // Refused: either someone else got it (block on the key) or a lock-delay is running (poll).
      const why = await this.#read(0, wait, stop, '');
      if (!why) return false;
      index = why.pair?.Session ? why.index : 0;
      if (!why.pair?.Session && !(await this.#h.delay(DEFAULT_LOCK_RETRY_TIME, stop))) return false;
    }
  }

  /** Reads the lock key, blocking past `index`; null when `stop` aborted the read. */
  async #read(index: number, wait: number, stop: AbortSignal | undefined, what: string): Promise<{ pair: ExactKVPair | null; index: number } | null> {
    try {
      const r = await readExact(this.#c, this.#o.key, { ...this.#call, index, wait, signal: stop });
      return { pair: r.pairs[0] ?? null, index: r.index };
    } catch (err) {
      if (stop?.aborted) return null;
      if (!what) throw err;
      throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  #tryAcquire(session: string): Promise<boolean> {
    return wrapFailure('failed to acquire lock', () =>
      writeExact(this.#c, this.#o.key, this.#o.value ?? '', { flags: LOCK_FLAG_VALUE, acquire: session }, this.#call));
  }

  /** Releases the lock and destroys a session the Lock created; throws `Lock not held` when not held. */
  unlock(): Promise<void> {
    return this.#h.serial(async () => {
      if (!this.#held) throw new LockError('not-held', 'Lock not held');
      this.#held = false;
      await this.#h.letGo(async (session) => {
        await wrapFailure('failed to release lock', () =>
          writeExact(this.#c, this.#o.key, this.#o.value ?? '', { flags: LOCK_FLAG_VALUE, release: session }, this.#call));
      });
    });
  }

  /** Deletes the lock key when nobody holds it; throws `Lock in use` or the conflict error otherwise. */
  destroy(): Promise<void> {
    return this.#h.serial(async () => {
      if (this.#held) throw new LockError('held', 'Lock already held');
      const pair = (await wrapFailure('failed to read lock', () => readExact(this.#c, this.#o.key, this.#call))).pairs[0];
      if (!pair) return;
      if (pair.Flags !== LOCK_FLAG_VALUE) throw new LockError('conflict', 'Existing key does not match lock use');
      if (pair.Session) throw new LockError('in-use', 'Lock in use');
      await removeUnheld(this.#c, this.#o.key, pair.ModifyIndex, 'lock', 'Lock in use', this.#call);
    });
  }
}
