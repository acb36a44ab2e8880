// The session area of the client: /v1/session create/destroy/renew/info/node/list as Consul's
// api.Session does them, plus RenewPeriodic, the loop that keeps a TTL session alive.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.ts';
import { goDurationError, parseGoDuration } from '../duration.ts';
import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';
import type { SessionEntry } from './types.ts';

/** Thrown by renewPeriodic when the server no longer knows the session (Go's ErrSessionExpired). */
export class SessionExpiredError extends Error {
  override name = 'SessionExpiredError';
  constructor() {
    super('session expired');
  }
}

/** Options of renewPeriodic: the per-call options and an optional clock for the waits. */
export interface RenewOptions extends CallOptions {
  /** Drives the waits and the TTL bound; real (process-holding) timers when absent. */
  clock?: Clock;
}

/**
 * Waits `ms` milliseconds; resolves false (early) when `signal` aborts. With no clock the timer
 * is a plain Node timer, so a pending wait keeps the process alive as a Go goroutine would not
 * need to: a lock holder must not exit while it is waiting to retry.
 */
export function delay(ms: number, signal?: AbortSignal, clock?: Clock): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (!clock) return sleep(Math.max(0, ms), true, { signal }).catch(() => false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Go's durToMsec: a nanosecond duration as whole milliseconds, at least 1ms when positive. */
function durToMsec(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  return `${ns > 0 && ms === 0 ? 1 : ms}ms`;
}

/** The create body as Go's Session.Create builds it: only the fields that are set. */
function createBody(se: SessionEntry, noChecks: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = noChecks ? { Checks: [] } : {};
  if (se.Name) body.Name = se.Name;
  if (se.Node) body.Node = se.Node;
  if (se.LockDelay) body.LockDelay = durToMsec(se.LockDelay);
  if (!noChecks && se.Checks?.length) body.Checks = se.Checks;
  if (!noChecks && se.NodeChecks?.length) body.NodeChecks = se.NodeChecks;
  if (!noChecks && se.ServiceChecks?.length) body.ServiceChecks = se.ServiceChecks;
  if (se.Behavior) body.Behavior = se.Behavior;
  if (se.TTL) body.TTL = se.TTL;
  return body;
}

/** Client for `/v1/session`. */
export class SessionApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Creates a session (tied to the agent's serfHealth check unless checks are given); answers its ID. */
  async create(entry?: SessionEntry, options?: CallOptions): Promise<ApiResponse<string>> {
    const json = entry ? createBody(entry, false) : undefined;
    const res = await this.#c.json<{ ID: string }>({ method: 'PUT', path: '/v1/session/create', json, options });
    return { data: res.data.ID, meta: res.meta };
  }

  /** Creates a session with no health checks at all, so only its TTL or a destroy ends it. */
  async createNoChecks(entry: SessionEntry = {}, options?: CallOptions): Promise<ApiResponse<string>> {
    const json = createBody(entry, true);
    const res = await this.#c.json<{ ID: string }>({ method: 'PUT', path: '/v1/session/create', json, options });
    return { data: res.data.ID, meta: res.meta };
  }

  /** Invalidates a session, releasing or deleting its locks; succeeds for an unknown ID too. */
  destroy(id: string, options?: CallOptions): Promise<ApiResponse<boolean>> {
    return this.#c.json<boolean>({ method: 'PUT', path: `/v1/session/destroy/${encodeURIComponent(id)}`, options });
  }

  /** Renews a TTL session; null when the session does not exist (404). */
  async renew(id: string, options?: CallOptions): Promise<ApiResponse<SessionEntry | null>> {
    const res = await this.#c.request({ method: 'PUT', path: `/v1/session/renew/${encodeURIComponent(id)}`, accept: [404], options });
    if (res.status === 404) return { data: null, meta: res.meta };
    const entries = JSON.parse(res.body.toString('utf8')) as SessionEntry[] | null;
    return { data: entries?.[0] ?? null, meta: res.meta };
  }

  /**
   * Renews `id` every TTL/2 until `signal` aborts, then destroys the session and resolves, as
   * Go's RenewPeriodic. A failed renewal is retried every second; when no renewal has succeeded
   * for a whole TTL it rejects with the last error, and with SessionExpiredError once the
   * server no longer knows the session.
   */
  async renewPeriodic(initialTTL: string, id: string, signal: AbortSignal, options: RenewOptions = {}): Promise<void> {
    const { clock, ...call } = options;
    const now = (): number => (clock ? clock.now() : Date.now());
    let ttl = parseGoDuration(initialTTL);
    if (ttl === null) throw new Error(`${goDurationError(initialTTL)}`);
    let wait = ttl / 2;
    let lastRenew = now();
    let lastErr: unknown;
    for (;;) {
      if (now() - lastRenew > ttl) throw lastErr ?? new SessionExpiredError();
      if (!(await delay(wait, signal, clock))) break;
      let entry: SessionEntry | null;
      try {
        entry = (await this.renew(id, { ...call, signal })).data;
      } catch (err) {
        if (signal.aborted) break;
        wait = 1000;
        lastErr = err;
        continue;
      }
      if (!entry) throw new SessionExpiredError();
      // The server may answer a different TTL; an unparseable one keeps the last.
      ttl = parseGoDuration(entry.TTL ?? '') || ttl;
      wait = ttl / 2;
      lastRenew = now();
    }
    await this.destroy(id, call).catch(() => undefined);
  }

  /** One session, or null when it does not exist. */
  async info(id: string, options?: QueryOptions): Promise<ApiResponse<SessionEntry | null>> {
    const res = await this.#c.json<SessionEntry[] | null>({ method: 'GET', path: `/v1/session/info/${encodeURIComponent(id)}`, options });
    return { data: res.data?.[0] ?? null, meta: res.meta };
  }

  /** The sessions of one node. */
  async node(node: string, options?: QueryOptions): Promise<ApiResponse<SessionEntry[]>> {
    const res = await this.#c.json<SessionEntry[] | null>({ method: 'GET', path: `/v1/session/node/${encodeURIComponent(node)}`, options });
    return { data: res.data ?? [], meta: res.meta };
  }

  /** Every session in the datacenter. */
  async list(options?: QueryOptions): Promise<ApiResponse<SessionEntry[]>> {
    const res = await this.#c.json<SessionEntry[] | null>({ method: 'GET', path: '/v1/session/list', options });
    return { data: res.data ?? [], meta: res.meta };
  }
}
