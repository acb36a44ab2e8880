// One blocking-query loop for the built-in proxy's and the gateways' watches (Consul's watch.Plan
// rules, as its connect.Service runs them): the first answer always applies, a repeated index is no
// change, an index that goes backwards restarts from 0, and each consecutive failure waits longer.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiResponse, ConsulClient, QueryOptions } from '../api/index.ts';
import type { Logger } from '../log.ts';
import { watchRetryMs } from './proxy/backoff.ts';

const WAIT = '10m';

/** The query options of one read: the signal, and the index and wait once one is known. */
export function blockingOptions(index: number, signal: AbortSignal): QueryOptions {
  return { signal, ...(index > 0 ? { index, wait: WAIT } : {}) };
}

/** What a watch may add to the loop. */
export interface WatchHooks<T> {
  /** The first read waits until this settles (either way); an abort meanwhile ends the watch unread. */
  after?: Promise<unknown>;
  /** Called after each failed read (the last answer stays in use meanwhile). */
  failed?: (err: Error) => void;
  /** Fields logged with each update, asked for once `set` has applied it. */
  fields?: (v: T) => Record<string, unknown>;
  /** Waits `ms` after a failure, ending early on abort (the real timer unless a test drives it). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<unknown>;
}

/**
 * Reads with `read` until `signal` aborts, calling `set` with each changed answer. Nothing is
 * applied once `signal` has aborted, even an answer already on its way.
 */
export async function blockingWatch<T>(
  what: string, read: (opts: QueryOptions) => Promise<ApiResponse<T>>, set: (v: T) => void, log: Logger, signal: AbortSignal,
  hooks: WatchHooks<T> = {},
): Promise<void> {
  const wait = hooks.sleep ?? ((ms: number, s: AbortSignal) => sleep(ms, undefined, { signal: s }));
  if (hooks.after) await Promise.race([hooks.after.catch(() => undefined), whenAborted(signal)]);
  let index = 0;
  let failures = 0;
  let first = true;
  while (!signal.aborted) {
    try {
      const res = await read(blockingOptions(index, signal));
      // An answer that arrives after the stop applies nothing (a link or pool set up now would never be closed).
      if (signal.aborted) return;
      failures = 0;
      if (!first && res.meta.index === index) continue;
      first = false;
      index = res.meta.index < index ? 0 : res.meta.index;
      set(res.data);
      log.debug({ index, ...hooks.fields?.(res.data) }, `${what} updated`);
    } catch (err) {
      if (signal.aborted) return;
      log.error({ error: (err as Error).message }, `${what} watch failed`);
      hooks.failed?.(err as Error);
      index = 0;
      await wait(watchRetryMs(++failures), signal).catch(() => undefined);
    }
  }
}

/** A one-shot readiness signal: the promise ready() hands out, whether it has resolved, and mark() to resolve it. */
export class Readiness {
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #settled = false;

  constructor() {
    this.promise = new Promise((resolve) => { this.#resolve = resolve; });
  }

  /** True once mark() has been called. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Resolves the promise (again is a no-op). */
  mark(): void {
    this.#settled = true;
    this.#resolve();
  }
}

function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** A read of config entry `kind`/`name` for blockingWatch: the entry, or null while there is none. */
export function configEntryRead<T>(client: ConsulClient, kind: string, name: string): (opts: QueryOptions) => Promise<ApiResponse<T | null>> {
  const path = `/v1/config/${kind}/${encodeURIComponent(name)}`;
  return async (options) => {
    const res = await client.request({ method: 'GET', path, options, accept: [404] });
    return { data: res.status === 404 ? null : JSON.parse(res.body.toString('utf8')) as T, meta: res.meta };
  };
}

/**
 * A gateway's applies of its watched configuration, one at a time and the latest last; `first`
 * resolves once one has run (or `signal` aborts), and `idle()` once none is running.
 */
export class ApplyQueue {
  readonly #log: Logger;
  readonly #what: string;
  #chain: Promise<void> = Promise.resolve();
  #firstDone!: () => void;
  readonly first: Promise<void>;

  constructor(log: Logger, what: string, signal: AbortSignal) {
    this.#log = log;
    this.#what = what;
    this.first = Promise.race([new Promise<void>((resolve) => { this.#firstDone = resolve; }), whenAborted(signal)]);
  }

  /** Runs `apply` after the ones before it; a failure is logged. */
  schedule(apply: () => Promise<void>): void {
    this.#chain = this.#chain.then(apply).then(() => this.#firstDone())
      .catch((err: Error) => this.#log.error({ error: err.message }, `failed to apply the ${this.#what} configuration`));
  }

  /** Resolves once the applies scheduled so far have run. */
  idle(): Promise<void> {
    return this.#chain;
  }
}
