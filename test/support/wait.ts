// Polling for integration tests that drive real processes: wait until something holds, failing
// with an error that names what was awaited (plus, on request, the processes' recent logs), and a
// GET that turns every failure into `undefined` so it can be polled.
import { setTimeout as sleep } from 'node:timers/promises';

/** How to poll. */
export interface PollOptions {
  /** Milliseconds between attempts (until: 100, waitFor: 20). */
  every?: number;
  /** Extra text for the timeout error, such as the tail of each process's log; called only on timeout. */
  context?: () => string;
  /** Count an attempt that throws (a process not listening yet) as "not yet" instead of failing at once. */
  retryErrors?: boolean;
}

/** waitFor's options: PollOptions plus the timeout. */
export interface WaitOptions extends PollOptions {
  /** Milliseconds before giving up (default 10 s). */
  ms?: number;
}

/**
 * Calls `fn` until it returns something other than `undefined` or `false` and returns that;
 * throws `timed out after <ms> ms waiting for <what>` (then `context()`) once `ms` have passed.
 */
export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>, opts: PollOptions = {}): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    let v: T | undefined | false;
    try {
      v = await fn();
    } catch (err) {
      if (!opts.retryErrors) throw err;
      lastError = err;
      v = undefined;
    }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      const context = opts.context ? `\n${opts.context()}` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${what}${context}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await sleep(opts.every ?? 100);
  }
}

/** Polls `check` (every 20 ms unless told) until it is true; throws like `until` after `ms` (10 s unless told). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, opts: WaitOptions = {}): Promise<void> {
  await until(what, opts.ms ?? 10_000, async () => (await check()) || undefined, { ...opts, every: opts.every ?? 20 });
}

/** GET (or `init`) `url` as JSON, giving up after 2 s; undefined on any failure or a non-2xx status. */
export async function getJson<T>(url: string, init?: RequestInit): Promise<T | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** A timeout `context`: the last `chars` of each named log, each under a `--- <name>` line. */
export function logTails(logs: [name: string, log: string][], chars: number): string {
  return logs.map(([name, log]) => `--- ${name}\n${log.slice(-chars)}`).join('\n');
}
