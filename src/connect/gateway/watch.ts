// One blocking-query loop for the gateway's watches (Consul's watch.Plan rules, as the proxy's
// connect service runs them): a repeated index is no change, an index that goes backwards
// restarts from 0, and each consecutive failure waits longer before the next read.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiResponse, QueryOptions } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import { watchRetryMs } from '../proxy/backoff.ts';

const WAIT = '10m';

/** The query options of one read: the signal, and the index and wait once one is known. */
export function blockingOptions(index: number, signal: AbortSignal): QueryOptions {
  return { signal, ...(index > 0 ? { index, wait: WAIT } : {}) };
}

/**
 * Reads with `read` until `signal` aborts, calling `set` with each changed answer; `failed` is
 * called after a failed read (the last answer stays in use meanwhile).
 */
export async function blockingWatch<T>(
  what: string, read: (opts: QueryOptions) => Promise<ApiResponse<T>>, set: (v: T) => void, log: Logger, signal: AbortSignal, failed?: (err: Error) => void,
): Promise<void> {
  let index = 0;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const res = await read(blockingOptions(index, signal));
      // An answer that arrives after the stop applies nothing (a link set up now would never be closed).
      if (signal.aborted) return;
      failures = 0;
      if (res.meta.index === index) continue;
      index = res.meta.index < index ? 0 : res.meta.index;
      set(res.data);
      log.debug({ index }, `${what} updated`);
    } catch (err) {
      if (signal.aborted) return;
      log.error({ error: (err as Error).message }, `${what} watch failed`);
      failed?.(err as Error);
      index = 0;
      await sleep(watchRetryMs(++failures), undefined, { signal }).catch(() => undefined);
    }
  }
}
