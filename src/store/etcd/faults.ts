// Fault handling for the etcd3 client of a multi-endpoint store (`-store etcd://a,b,c`).
//
// etcd3's defaults (a per-host circuit breaker that opens for 5 s after three consecutive
// "recoverable" errors, a global policy that resends any call three times) fail over badly when
// a member dies with the etcd leader: writes in flight on the SURVIVING members time out while
// etcd elects, the breaker counts those timeouts against the survivors and refuses every call to
// them for 5 s, while calls that land on the dead member fail and are not sent elsewhere. Here:
//   - a host is skipped (for HOST_DOWN_MS) only after a connection-level failure on it — a call
//     that could not reach the member at all. Timeouts and etcd's own errors ("no leader",
//     "request timed out") never mark a host: they say nothing about which member is dead. When
//     every host is marked, calls go through anyway (nothing better to try).
//   - the global policy resends a call on another host only when it was provably never sent
//     (no connection / refused / skipped host), so a write is never applied twice; calls whose
//     outcome is unknown fail to the store, which retries reads and idempotent requests itself.
// Both policies are async so that etcd3's `markFailed` (called from stream 'error' handlers,
// which run it inside `execute` and throw from the callback) never throws synchronously.
import { GRPCGenericError, type IOptions } from 'etcd3';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;
type Fn<T> = (ctx: { signal: AbortSignal }) => PromiseLike<T> | T;

/** The policies' context: etcd3 never reads it, and nothing aborts it, so one serves every call. */
const CALL_CONTEXT = { signal: new AbortController().signal };

/** How long a host that refused a connection is skipped. */
export const HOST_DOWN_MS = 2_000;

/** Thrown by a host policy for a host marked down: the call was not sent (withConnection tries the next host). */
export class HostDownError extends GRPCGenericError {
  constructor(host: string) {
    super(`etcd member ${host} unavailable: its connection failed (skipped for ${HOST_DOWN_MS} ms)`);
    this.name = 'HostDownError';
  }
}

const NOT_SENT = /no connection established|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|failed to connect|connection refused|name resolution/i;

function grpcCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

/** Whether a call failed before it reached a member (so resending it elsewhere cannot apply it twice). */
export function notSent(err: unknown): boolean {
  if (err instanceof HostDownError) return true;
  if (!(err instanceof Error)) return false;
  const unavailable = grpcCode(err) === 14 || /unavailable/i.test(`${err.name} ${err.message}`);
  return unavailable && !/etcdserver:/.test(err.message) && NOT_SENT.test(err.message);
}

/** Whether a failure says the member's connection is broken (not etcd being slow or leaderless). */
function connectionLost(err: unknown): boolean {
  if (notSent(err)) return true;
  if (!(err instanceof Error) || /etcdserver:/.test(err.message)) return false;
  return (grpcCode(err) === 14 || /GRPCUnavailableError/.test(err.name) || err.constructor.name === 'GRPCUnavailableError')
    && /connection dropped|ECONNRESET|EPIPE|socket closed|GOAWAY|connection closed|stream removed/i.test(err.message);
}

/** The client's fault handling for `endpoints` (more than one). */
export function multiHostFaultHandling(endpoints: string[]): NonNullable<IOptions['faultHandling']> {
  const downUntil = new Map<string, number>();
  const isDown = (h: string, now: number) => (downUntil.get(h) ?? 0) > now;

  const host = (name: string): Policy => ({
    execute: async <T>(fn: Fn<T>): Promise<T> => {
      const now = Date.now();
      if (isDown(name, now) && endpoints.some((e) => !isDown(e, now))) throw new HostDownError(name);
      try {
        const res = await fn(CALL_CONTEXT);
        downUntil.delete(name);
        return res;
      } catch (err) {
        if (connectionLost(err)) downUntil.set(name, Date.now() + HOST_DOWN_MS);
        throw err;
      }
    },
  }) as unknown as Policy;

  const global = {
    execute: async <T>(fn: Fn<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn(CALL_CONTEXT);
        } catch (err) {
          if (attempt >= endpoints.length || !notSent(err)) throw err;
        }
      }
    },
  } as unknown as Policy;

  return { host, global };
}
