// The reading side of `proconsul exec` (Consul's streamResults): blocking key listings under
// <prefix>/<session>/ turned into one piece of news per new key — ack, output chunk, heartbeat
// (an empty chunk) or exit code — handed to the waiting loop in order.

import type { ConsulClient } from '../api/index.ts';

/** What `exec` was asked to do. */
export interface ExecConf {
  node: string;
  service: string;
  tag: string;
  prefix: string;
  verbose: boolean;
  waitMs: number;
  replWaitMs: number;
}

/** One node's news. */
export type ExecNews =
  | { kind: 'ack'; node: string }
  | { kind: 'heartbeat'; node: string }
  | { kind: 'output'; node: string; output: string }
  | { kind: 'exit'; node: string; code: number };

/** The results reader: `next(ms)` gives the next news, or 'quiet' after `ms` without any. */
export interface ExecResults {
  next(quietMs: number): Promise<ExecNews | 'quiet' | 'failed' | 'stopped'>;
  close(): void;
}

/** Starts reading the results under `dir` (ending in `/`); read failures are printed with `error` and end the run. */
export function execResults(client: ConsulClient, conf: ExecConf, dir: string, error: (s: string) => void, signal: AbortSignal): ExecResults {
  const queue: (ExecNews | 'failed')[] = [];
  let wake: (() => void) | null = null;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const push = (n: ExecNews | 'failed'): void => {
    queue.push(n);
    wake?.();
  };
  void (async () => {
    const seen = new Set<string>();
    let index = 0;
    while (!stop.signal.aborted) {
      let keys: string[];
      let last: number;
      try {
        const res = await client.kv.keys(dir, '', { index, wait: conf.waitMs, signal: stop.signal });
        keys = res.data;
        last = res.meta.index;
      } catch (e) {
        if (stop.signal.aborted) return;
        error(`Failed to read results: ${(e as Error).message}`);
        return push('failed');
      }
      if (last === index) continue;
      index = last;
      // Keys come back sorted, so a node's exit would precede its last output when both land
      // in one listing; news is handed on in the order the agent wrote it.
      const fresh = keys.filter((k) => !seen.has(k)).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
      for (const full of fresh) {
        seen.add(full);
        const news = await keyNews(client, full, full.startsWith(dir) ? full.slice(dir.length) : full, error);
        if (news) push(news);
      }
    }
  })();
  return {
    next(quietMs) {
      return new Promise((resolve) => {
        const take = (): boolean => {
          if (signal.aborted) {
            resolve('stopped');
            return true;
          }
          const n = queue.shift();
          if (n === undefined) return false;
          resolve(n);
          return true;
        };
        if (take()) return;
        const timer = setTimeout(() => {
          wake = null;
          signal.removeEventListener('abort', onWake);
          resolve('quiet');
        }, quietMs);
        const onWake = (): void => {
          if (!take()) return;
          clearTimeout(timer);
          wake = null;
          signal.removeEventListener('abort', onWake);
        };
        wake = onWake;
        signal.addEventListener('abort', onWake, { once: true });
      });
    },
    close() {
      stop.abort();
      signal.removeEventListener('abort', onAbort);
    },
  };
}

function rank(key: string): number {
  return key.endsWith('/ack') ? 0 : key.endsWith('/exit') ? 2 : 1;
}

/** What one new key says, as Consul sorts keys: job (skipped), …/ack, …/exit, …/out/NNNNN. */
async function keyNews(client: ConsulClient, full: string, key: string, error: (s: string) => void): Promise<ExecNews | null> {
  if (key === 'job') return null;
  if (key.endsWith('/ack')) return { kind: 'ack', node: key.slice(0, -'/ack'.length) };
  const isExit = key.endsWith('/exit');
  const out = key.lastIndexOf('/out/');
  if (!isExit && out === -1) {
    error(`Unknown key '${key}', ignoring.`);
    return null;
  }
  let value: Buffer | null;
  try {
    value = (await client.kv.get(full, { raw: true })).data;
  } catch (e) {
    error(`Failed to read key '${full}': ${(e as Error).message}`);
    return null;
  }
  if (value === null) {
    error(`Failed to read key '${full}': <nil>`);
    return null;
  }
  if (isExit) {
    const text = value.toString('utf8');
    if (!/^[+-]?\d+$/.test(text)) {
      error(`Failed to parse exit code '${text}': strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
      return null;
    }
    return { kind: 'exit', node: key.slice(0, -'/exit'.length), code: Number(text) };
  }
  const node = key.slice(0, out);
  return value.length === 0 ? { kind: 'heartbeat', node } : { kind: 'output', node, output: value.toString('utf8') };
}
