// What Lock and Semaphore share: the managed session and its renewal, the monitor behind the
// "lost" signal (with Go's MonitorRetries), Consul's lock error texts, and KV reads and writes
// that keep the uint64 lock flags exact (they exceed 2^53, so a JS number would round them).

import type { Clock } from '../clock.ts';
import { goDurationError, parseGoDuration } from '../duration.ts';
import type { CallOptions, ConsulClient, QueryOptions } from './client.ts';
import { ApiError, TransportError } from './errors.ts';
import { delay } from './session.ts';
import type { KVPair, SessionEntry } from './types.ts';

/** Pause between monitor retries, in milliseconds. */
export const DEFAULT_MONITOR_RETRY_TIME = 2_000;

/** Why a lock or semaphore call was refused (Go's ErrLockHeld, ErrLockNotHeld, ErrLockInUse, ErrLockConflict). */
export type LockErrorCode = 'held' | 'not-held' | 'in-use' | 'conflict';

/** A refused lock or semaphore call; the message is Consul's text. */
export class LockError extends Error {
  override name = 'LockError';
  readonly code: LockErrorCode;
  constructor(code: LockErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Runs `fn`, rethrowing its failure as Go's `fmt.Errorf("<what>: %v", err)` with the cause kept. */
export async function wrapFailure<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Deletes an unheld lock or semaphore key if it is still at `modifyIndex` (the end of Go's
 * Destroy); throws `failed to remove <what>: …`, or LockError `inUse` when the key changed.
 */
export async function removeUnheld(c: ConsulClient, key: string, modifyIndex: number, what: string, inUse: string, call: CallOptions = {}): Promise<void> {
  const removed = (await wrapFailure(`failed to remove ${what}`, () => c.kv.delete(key, { ...call, cas: modifyIndex }))).data;
  if (!removed) throw new LockError('in-use', inUse);
}

/** A KV pair with its uint64 Flags read exactly. */
export interface ExactKVPair extends Omit<KVPair, 'Flags'> {
  Flags: bigint;
}

/** Escapes a key for a URL path, keeping `/` separators. */
function escapeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** Reads one key (or a prefix with `recurse`), parsing Flags from its JSON source text as a BigInt. */
export async function readExact(
  c: ConsulClient, key: string, options: QueryOptions & { recurse?: boolean } = {},
): Promise<{ pairs: ExactKVPair[]; index: number }> {
  const { recurse, ...q } = options;
  const res = await c.request({ method: 'GET', path: `/v1/kv/${escapeKey(key)}`, query: { recurse }, accept: [404], options: q });
  if (res.status === 404) return { pairs: [], index: res.meta.index };
  const pairs = JSON.parse(res.body.toString('utf8'), (k: string, v: unknown, ctx?: { source?: string }) =>
    (k === 'Flags' && ctx?.source ? BigInt(ctx.source) : v)) as ExactKVPair[] | null;
  return { pairs: pairs ?? [], index: res.meta.index };
}

/** A KV write with exact flags: plain, check-and-set, acquire or release; answers the server's true/false. */
export async function writeExact(
  c: ConsulClient, key: string, value: Buffer | string,
  how: { flags: bigint; acquire?: string; release?: string; cas?: number }, call: CallOptions = {},
): Promise<boolean> {
  const query = { flags: how.flags ? how.flags.toString() : undefined, acquire: how.acquire, release: how.release, cas: how.cas };
  const res = await c.request({ method: 'PUT', path: `/v1/kv/${escapeKey(key)}`, query, body: value, options: call });
  return res.body.toString('utf8').trim() === 'true';
}

/** Go's IsRetryableError: the request never got an answer, or the server answered 500. */
export function isRetryable(err: unknown): boolean {
  return err instanceof TransportError || (err instanceof ApiError && err.statusCode === 500);
}

/** The session and monitor options a Lock and a Semaphore both take. */
export interface HoldOptions {
  /**
   * Namespace of the key(s) and the session (Go's LockOptions/SemaphoreOptions.Namespace); default
   * the client's, else the token's, else `default`.
   */
  namespace?: string;
  sessionName?: string;
  sessionTTL?: string;
  monitorRetries?: number;
  monitorRetryTime?: number;
}

/**
 * Fills the session and monitor defaults as Go's LockOpts and SemaphoreOpts do; throws
 * `invalid SessionTTL: …` when the TTL is not a Go duration.
 */
export function resolveHoldOptions(options: HoldOptions, defaults: { sessionName: string; sessionTTL: string }): Required<HoldOptions> {
  const ttl = options.sessionTTL || defaults.sessionTTL;
  if (parseGoDuration(ttl) === null) throw new Error(`invalid SessionTTL: ${goDurationError(ttl)}`);
  return {
    namespace: options.namespace ?? '',
    sessionName: options.sessionName || defaults.sessionName,
    sessionTTL: ttl,
    monitorRetries: options.monitorRetries ?? 0,
    monitorRetryTime: options.monitorRetryTime || DEFAULT_MONITOR_RETRY_TIME,
  };
}

/** One monitor read: whether we still hold the lock and the index to block on next. */
export interface MonitorRead {
  holding: boolean;
  index: number;
}

/** The per-call options of a Lock's or Semaphore's calls: its namespace, when it names one. */
export function holdCall(namespace: string | undefined): CallOptions {
  return namespace ? { namespace } : {};
}

/** The session a Lock or Semaphore holds through, created and renewed on demand, and the monitor. */
export class Holding {
  readonly #c: ConsulClient;
  readonly #clock: Clock | undefined;
  readonly #call: CallOptions;
  /** The session of the current attempt or hold. */
  session = '';
  #renew: { ctl: AbortController; done: Promise<void> } | null = null;
  #monitor: AbortController | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(client: ConsulClient, clock?: Clock, call: CallOptions = {}) {
    this.#c = client;
    this.#clock = clock;
    this.#call = call;
  }

  /** Milliseconds on the injected clock (or the wall clock). */
  now(): number {
    return this.#clock ? this.#clock.now() : Date.now();
  }

  /** Waits on the injected clock; false when `signal` aborted first. */
  delay(ms: number, signal?: AbortSignal): Promise<boolean> {
    return delay(ms, signal, this.#clock);
  }

  /**
   * The blocking wait of acquisition attempt `attempt` begun at `start`: `waitTime`, or with
   * `tryOnce` what is left of it after the first attempt; null once that is used up.
   */
  waitLeft(start: number, attempt: number, waitTime: number, tryOnce: boolean): number | null {
    if (!tryOnce || attempt === 0) return waitTime;
    const elapsed = this.now() - start;
    return elapsed > waitTime ? null : waitTime - elapsed;
  }

  /** Runs calls one at a time, as the Go types hold their mutex for a whole call. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Uses `given`, or creates a session from `entry` and renews it every `ttl`/2 until closeSession. */
  async openSession(given: string | undefined, entry: SessionEntry, ttl: string): Promise<string> {
    if (given) return (this.session = given);
    const id = (await wrapFailure('failed to create session', () => this.#c.session.create(entry, this.#call))).data;
    const ctl = new AbortController();
    // A renewal that gives up is not fatal here: the monitor sees the lock go and reports it lost.
    const done = this.#c.session.renewPeriodic(ttl, id, ctl.signal, { ...this.#call, clock: this.#clock }).catch(() => undefined);
    this.#renew = { ctl, done };
    return (this.session = id);
  }

  /** Stops renewing a session we created; the renewal loop destroys it before this resolves. */
  async closeSession(): Promise<void> {
    const r = this.#renew;
    this.#renew = null;
    this.session = '';
    if (!r) return;
    r.ctl.abort();
    await r.done;
  }

  /**
   * Starts the monitor: `read` blocks until the watched keys change past `index`; the returned
   * signal aborts once a read says we no longer hold, or fails more than `retries` times in a
   * row with a retryable error (each retry after `retryTime` ms), or unwatch() is called.
   */
  watch(read: (index: number, signal: AbortSignal) => Promise<MonitorRead>, retries: number, retryTime: number): AbortSignal {
    const lost = new AbortController();
    const stop = new AbortController();
    this.#monitor = stop;
    void (async () => {
      let index = 0;
      let left = retries;
      for (;;) {
        let r: MonitorRead;
        try {
          r = await read(index, stop.signal);
        } catch (err) {
          if (stop.signal.aborted || left <= 0 || !isRetryable(err)) break;
          left--;
          index = 0;
          if (!(await this.delay(retryTime, stop.signal))) break;
          continue;
        }
        if (!r.holding) break;
        index = r.index;
        left = retries;
      }
      lost.abort();
    })();
    return lost.signal;
  }

  /** Stops the monitor, which aborts the lost signal. */
  unwatch(): void {
    this.#monitor?.abort();
    this.#monitor = null;
  }

  /** Runs `release` with the held session, then stops the monitor and closes the session whatever happened. */
  async letGo(release: (session: string) => Promise<void>): Promise<void> {
    try {
      await release(this.session);
    } finally {
      this.unwatch();
      await this.closeSession();
    }
  }
}
