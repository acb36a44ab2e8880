// The store's unary KV calls (Txn, Range) on etcd3's connection pool, calling the pool's generated
// grpc-js KV client directly with the plain request object. etcd3's `exec` does the same with more
// work per call, which profiles of etcd-backend PUTs showed: a fresh per-call options object from
// the defaultCallOptions factory, an interceptor chain (our `hasleader` header), and around the
// call a retry policy closure. Here each call sends `hasleader` in its metadata and one options
// object with the deadline, through the same pool: the same global and host fault policies
// (faults.ts, or run-once for one endpoint), the same auth metadata and token refresh, the same
// typed errors (castGrpcError, in withConnection) and channel reset on a recoverable error.
import { Metadata } from '@grpc/grpc-js';
import { castGrpcError, EtcdInvalidAuthTokenError, type ICallable, type IOptions } from 'etcd3';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** The parts of etcd3's ConnectionPool (1.1.2, pinned) a unary call uses beside ICallable. */
interface PoolInternals {
  globalPolicy: Policy;
  authenticator: { invalidateMetadata(): void };
  hosts: unknown[];
  /** Its third argument, the hosts to try in order (default: a fresh shuffling generator per call). */
  withConnection<R>(service: 'KV', fn: (args: { client: unknown; metadata: Metadata }) => Promise<R>, order?: Iterator<unknown>): Promise<R>;
}

/** A generated grpc-js client method: (request, metadata, options, callback). */
type UnaryMethod = (req: unknown, md: Metadata, opts: { deadline: number }, cb: (err: Error | null, res: unknown) => void) => unknown;

/**
 * The metadata a call sends: etcd3's plus etcd's `hasleader`, which makes a member without a
 * leader refuse the call at once, before proposing it (see hold.ts). Without auth etcd3's is an
 * empty fresh object per call, so one constant serves; with auth it is one shared token object
 * (a new one after a token refresh), copied once. grpc-js copies a call's metadata before
 * adding its own headers (ResolvingCall.start), so sharing one object across calls is safe.
 */
const LEADER_ONLY = leaderCopy(new Metadata());
const withLeader = new WeakMap<Metadata, Metadata>();
function leaderCopy(md: Metadata): Metadata {
  const out = md.clone();
  out.set('hasleader', 'true');
  return out;
}
function leaderMetadata(md: Metadata, auth: boolean): Metadata {
  if (!auth) return LEADER_ONLY;
  let out = withLeader.get(md);
  if (!out) withLeader.set(md, (out = leaderCopy(md)));
  return out;
}

/** Unary KV calls with a deadline of `timeoutMs` and etcd's require-leader header. */
export class UnaryKv {
  readonly #pool: PoolInternals;
  readonly #timeoutMs: number;
  /** Whether etcd3's metadata carries an auth token. */
  readonly #auth: boolean;
  /**
   * With one endpoint, the order withConnection tries hosts in: that host, without the shuffling
   * generator etcd3 makes per call (which showed in profiles); with several, etcd3's shuffle.
   */
  readonly #order: Iterator<unknown> | undefined;

  constructor(calls: ICallable<unknown>, timeoutMs: number, auth: boolean) {
    this.#pool = calls as unknown as PoolInternals;
    this.#timeoutMs = timeoutMs;
    this.#auth = auth;
    const hosts = this.#pool.hosts;
    const only = { value: hosts[0], done: false };
    this.#order = hosts.length === 1 ? { next: () => only } : undefined;
  }

  call<T>(method: 'txn' | 'range', req: unknown): Promise<T> {
    const pool = this.#pool;
    return pool.globalPolicy.execute(() => pool.withConnection('KV', async ({ client, metadata }) => {
      try {
        return await this.#send<T>(client as unknown as Record<string, UnaryMethod>, method, req, leaderMetadata(metadata, this.#auth));
      } catch (err) {
        if (!(err instanceof EtcdInvalidAuthTokenError)) throw err;
        pool.authenticator.invalidateMetadata();
        return this.call<T>(method, req);
      }
    }, this.#order)) as Promise<T>;
  }

  #send<T>(client: Record<string, UnaryMethod>, method: string, req: unknown, md: Metadata): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // grpc-js captures a stack trace per call (only to decorate a failure's stack): with the
      // limit at 0 that capture is cheap. Restored before anything else can run.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        client[method].call(client, req, md, { deadline: Date.now() + this.#timeoutMs }, (err, res) => (err ? reject(castGrpcError(err)) : resolve(res as T)));
      } finally {
        Error.stackTraceLimit = limit;
      }
    });
  }
}
