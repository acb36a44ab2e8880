// The etcd backend: the Store contract on an etcd 3.4 cluster (Raft replication for HA servers).
// Store revisions are etcd revisions minus the namespace's base; every request is pinned to the
// namespace's live generation (see keyspace.ts) so that a snapshot restore swaps it atomically.
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Etcd3, type ICallable, type IOptions, type IRangeResponse, type ITxnRequest, type ITxnResponse } from 'etcd3';
import { ClosedError, ProconsulError } from '../../errors.ts';
import type {
  KeyValue, LeaseGrant, RangeResult, Store, TxnRequest, TxnResponse, Watch, WatchHandlers,
} from '../store.ts';
import { isUnavailable, notProposed, storeError } from './errors.ts';
import { multiHostFaultHandling } from './faults.ts';
import { holdWhileNoLeader, type HoldOptions } from './hold.ts';
import { Keyspace } from './keyspace.ts';
import { EtcdLeases } from './lease.ts';
import { needsOverlapPlan, overlappingTxn, type Pinned, type PinnedRunner } from './overlap.ts';
import { writtenBetween } from './history.ts';
import { resendPlan, type Resend } from './settle.ts';
import { restoreNamespace, snapshotNamespace } from './snapshot.ts';
import { toEtcdTxn, toResult, writesAny } from './txn.ts';
import { UnaryKv } from './unary.ts';
import { EtcdWatch } from './watch.ts';

/** The structured-logger subset the etcd store uses (a pino logger fits). */
export interface EtcdLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How to reach and authenticate to the etcd cluster. */
export interface EtcdStoreOptions {
  /** Client URLs, e.g. `http://10.0.0.1:2379`. */
  endpoints: string[];
  /** Key namespace inside etcd (default `/proconsul/`). */
  prefix?: string;
  logger?: EtcdLogger;
  auth?: { username: string; password: string };
  /**
   * PEM contents for TLS endpoints (`https://`); `servername`: the name the members' certificates
   * are checked against instead of the endpoint's host.
   */
  tls?: EtcdTls;
  /**
   * Deadline for one unary request in milliseconds (default 3,000). A write forwarded to a
   * leader that dies is only answered by etcd after 5 s + 2 election timeouts; the deadline
   * bounds that stall. A write that times out may still have committed (`unavailable`).
   */
  requestTimeoutMs?: number;
  /**
   * How requests wait out an election (Consul's performance.rpc_hold_timeout, default 7 s, on
   * the agent's clock): reads are retried after any unavailable failure, writes only after etcd
   * refused them before proposing them (hold.ts).
   */
  hold?: HoldOptions;
}

/** TLS of the etcd client: PEM contents, and the name the members' certificates must hold (default: the endpoint's host). */
export interface EtcdTls { ca: Buffer | string; cert?: Buffer | string; key?: Buffer | string; servername?: string }

/** The etcd3 client's TLS options for `tls`. */
export function grpcTls(tls: EtcdTls): Pick<IOptions, 'credentials' | 'grpcOptions'> {
  return {
    credentials: { rootCertificate: Buffer.from(tls.ca), privateKey: pem(tls.key), certChain: pem(tls.cert) },
    ...(tls.servername ? { grpcOptions: { 'grpc.ssl_target_name_override': tls.servername, 'grpc.default_authority': tls.servername } } : {}),
  };
}

/** The parts of etcd3's connection pool that renewTls reaches (etcd3 1.1.2 is pinned for this). */
interface PoolInternals {
  options: IOptions;
  hosts: { channelCredentials: unknown; channelOptions?: unknown }[];
  buildAuthentication(): unknown;
}

/**
 * Gives an etcd3 client new TLS material (a reload) for the connections it makes from now on:
 * its open connections stay as they are, and when one fails the client rebuilds its channels
 * (etcd3 resets a host's services on a recoverable error) with the new key pair. Built by the
 * pool itself, as etcd3 bundles its own @grpc/grpc-js.
 */
export function renewTls(client: Etcd3, tls: EtcdTls): void {
  const pool = (client as unknown as { pool: PoolInternals }).pool;
  const { credentials: material, grpcOptions } = grpcTls(tls);
  pool.options.credentials = material;
  pool.options.grpcOptions = grpcOptions;
  const credentials = pool.buildAuthentication();
  for (const host of pool.hosts) {
    host.channelCredentials = credentials;
    host.channelOptions = pool.options.grpcOptions;
  }
}

const quiet: EtcdLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const pem = (v: Buffer | string | undefined) => (v === undefined ? undefined : Buffer.from(v));
/** Attempts of the namespace's opening read while the cluster elects a leader (requests use the hold instead). */
const OPEN_ATTEMPTS = 20;

/**
 * Asks etcd to refuse a request at once with `etcdserver: no leader` while the member has no
 * leader (etcd's hasleader metadata, clientv3's WithRequireLeader): without it a write proposed
 * to a leaderless member waits out the deadline, and a deadline leaves unknown whether it was
 * applied. The refusal comes before any proposal, so the hold can send the write again.
 */
const requireLeader: Interceptor = (options, nextCall) => new InterceptingCall(nextCall(options), {
  start(metadata, listener, next) {
    metadata.set('hasleader', 'true');
    next(metadata, listener);
  },
});

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** Deadline of one unary request (EtcdStoreOptions.requestTimeoutMs). */
const DEFAULT_TIMEOUT_MS = 3_000;

/** Resends of a write whose outcome etcd left unknown (settle.ts). */
const SETTLE_ROUNDS = 3;

/** Whether a store error leaves a write's outcome unknown (a refusal before proposal was already held and retried). */
const outcomeUnknown = (err: unknown) => err instanceof ProconsulError && err.code === 'unavailable';

/** The policies' context: etcd3 never reads it, and nothing aborts it, so one serves every call. */
const CALL_CONTEXT = { signal: new AbortController().signal };

/**
 * The client's default global policy resends failed calls up to three times, which could apply
 * a write twice when only its answer was lost. This one runs each call once; the store decides
 * what may be sent again (hold.ts: reads, refusals before proposal; settle.ts: self-fencing writes).
 */
const runOnce = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) => Promise.resolve(fn(CALL_CONTEXT)),
} as unknown as Policy;

/** A host policy that only runs the call (asynchronously: the pool's markFailed throws inside it). */
const passThrough = {
  execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) => fn(CALL_CONTEXT),
} as unknown as Policy;

function clientOptions(o: EtcdStoreOptions): IOptions {
  const timeout = o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    hosts: o.endpoints,
    auth: o.auth,
    // One endpoint (a managed server's own member) has nothing to fail over to: a host circuit
    // breaker would only keep refusing calls for seconds after etcd recovered. Several fail over
    // to a live member on connection failures only (faults.ts), never on timeouts.
    faultHandling: o.endpoints.length === 1 ? { global: runOnce, host: () => passThrough } : multiHostFaultHandling(o.endpoints),
    ...(o.tls ? grpcTls(o.tls) : {}),
    // Streams (watch, keepalive) live until cancelled (etcd would end a require-leader stream
    // during an election); unary calls get a deadline and require a leader.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout, interceptors: [requireLeader] }),
  };
}

/** The etcd3 client, with its connection pool reachable for the calls this store makes below it (watch.ts). */
class EtcdClient extends Etcd3 {
  get calls(): ICallable<unknown> {
    return this.pool;
  }
}

/** A Store backed by an etcd 3.4 cluster. */
export class EtcdStore implements Store {
  readonly kind = 'etcd';
  readonly #opts: EtcdStoreOptions;
  readonly #ks: Keyspace;
  readonly #log: EtcdLogger;
  #client: EtcdClient | null = null;
  /** The store's Txn and Range calls on the client's pool (unary.ts). */
  #kv: UnaryKv | null = null;
  #opening: Promise<void> | null = null;
  #closed = false;
  /** Aborted by close(): ends the hold's pauses. */
  readonly #closing = new AbortController();
  #leases: EtcdLeases | null = null;
  /** The highest etcd revision an answer has shown: a write sent now can only apply above it. */
  #seen = 0;
  readonly #watches = new Set<EtcdWatch>();

  constructor(opts: EtcdStoreOptions) {
    if (opts.endpoints.length === 0) throw new Error('etcd store needs at least one endpoint');
    this.#opts = opts;
    this.#ks = new Keyspace(opts.prefix ?? '/proconsul/');
    this.#log = opts.logger ?? quiet;
  }

  /** Connects and reads (or creates) the namespace's meta key, which fixes revision 0. */
  open(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError());
    this.#opening ??= this.#open();
    return this.#opening;
  }

  async #open(): Promise<void> {
    const client = new EtcdClient(clientOptions(this.#opts));
    const ks = this.#ks;
    const res = await this.#retrying('open', () => client.kv.txn({
      compare: [{ key: ks.metaKey, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: ks.metaKey, value: Buffer.from(JSON.stringify({ gen: 1 })) } }],
      failure: [{ request_range: { key: ks.metaKey } }],
    }));
    this.#saw(res.header.revision);
    if (res.succeeded) {
      ks.base = Number(res.header.revision);
      ks.metaMod = ks.base;
      ks.gen = 1;
    } else {
      const meta = res.responses[0].response_range.kvs[0];
      ks.base = Number(meta.create_revision);
      ks.metaMod = Number(meta.mod_revision);
      ks.gen = Keyspace.parseMeta(meta.value).gen;
    }
    this.#client = client;
    this.#kv = new UnaryKv(client.calls, this.#opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS, this.#opts.auth !== undefined);
    this.#leases = new EtcdLeases(client);
    this.#log.info({ prefix: ks.prefix, base: ks.base, gen: ks.gen }, 'etcd store opened');
  }

  /** New TLS material for the connections the store makes from now on (see renewTls). */
  renewTls(tls: EtcdTls): void {
    this.#opts.tls = tls;
    if (this.#client) renewTls(this.#client, tls);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    for (const w of [...this.#watches]) w.cancel();
    await this.#opening?.catch(() => undefined);
    this.#client?.close();
  }

  #live(): EtcdClient {
    if (this.#closed) throw new ClosedError();
    if (!this.#client) throw new ClosedError('etcd store (not opened)');
    return this.#client;
  }

  /** The opening read: retried while etcd is unreachable or electing a leader, longer than a request's hold. */
  async #retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.#closed) throw new ClosedError();
        if (!isUnavailable(err) || attempt >= OPEN_ATTEMPTS) throw storeError(err, what);
        await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      }
    }
  }

  /**
   * Runs a request, held while etcd has no leader (hold.ts). A read (`idempotent`) is sent again
   * after any unavailable failure; a write only when etcd refused it before proposing it: one
   * whose deadline passed may have been applied, and is never resent blindly.
   */
  async #held<T>(what: string, idempotent: boolean, fn: () => Promise<T>): Promise<T> {
    const canRetry = (err: unknown) => !this.#closed && (idempotent ? isUnavailable(err) : notProposed(err));
    try {
      return await holdWhileNoLeader({ ...this.#opts.hold, signal: this.#closing.signal }, fn, canRetry);
    } catch (err) {
      if (this.#closed) throw new ClosedError();
      throw storeError(err, what);
    }
  }

  /**
   * Runs the txn `build()` returns as a nested txn guarded by the meta key's mod revision, so it
   * sees and writes only the live generation. When a restore has moved the generation, re-reads
   * it and builds again (the keys depend on it); `build()` may return null to give up instead.
   */
  async #pinned(build: () => ITxnRequest | null, idempotent: boolean): Promise<Pinned | null> {
    const ks = this.#ks;
    for (;;) {
      this.#live();
      const kv = this.#kv!;
      const inner = build();
      if (!inner) return null;
      const req: ITxnRequest = {
        compare: [{ key: ks.metaKey, target: 'Mod', result: 'Equal', mod_revision: ks.metaMod }],
        success: [{ request_txn: inner }],
        failure: [{ request_range: { key: ks.metaKey } }],
      };
      const res = await this.#held('etcd txn', idempotent, () => kv.call<ITxnResponse>('txn', req));
      this.#saw(res.header.revision);
      if (res.succeeded) return { revision: ks.rev(res.header.revision), inner: res.responses[0].response_txn };
      const meta = res.responses[0].response_range.kvs[0];
      ks.metaMod = Number(meta.mod_revision);
      ks.gen = Keyspace.parseMeta(meta.value).gen;
    }
  }

  /** The runner overlap.ts uses. */
  #runner: PinnedRunner = (build, idempotent) => this.#pinned(build, idempotent);

  /** A pinned read (always built, so never null). */
  async #read(build: () => ITxnRequest): Promise<Pinned> {
    return (await this.#pinned(build, true))!;
  }

  async currentRevision(): Promise<number> {
    return this.#ks.rev(await this.#head());
  }

  /** etcd's current revision, read linearizably (held). */
  async #head(): Promise<number> {
    this.#live();
    const kv = this.#kv!;
    const res = await this.#held('current revision', true, () => kv.call<IRangeResponse>('range', { key: this.#ks.metaKey, count_only: true }));
    return this.#saw(res.header.revision);
  }

  #saw(revision: string | number): number {
    const r = Number(revision);
    if (r > this.#seen) this.#seen = r;
    return r;
  }

  async range(prefix: string): Promise<RangeResult> {
    const { revision, inner } = await this.#read(() => ({ success: [{ request_range: this.#ks.range(prefix) }] }));
    return { revision, kvs: inner.responses[0].response_range.kvs.map((kv) => this.#ks.kv(kv)) };
  }

  async get(key: string): Promise<KeyValue | null> {
    const { inner } = await this.#read(() => ({ success: [{ request_range: { key: this.#ks.physical(key) } }] }));
    const kv = inner.responses[0].response_range.kvs[0];
    return kv ? this.#ks.kv(kv, key) : null;
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    this.#live();
    if (needsOverlapPlan(req)) return overlappingTxn(this.#ks, this.#runner, req);
    const writes = writesAny(req.success) || (req.failure !== undefined && writesAny(req.failure));
    if (!writes) return this.#commit(req, true);
    const sentAfter = this.#seen;
    try {
      return await this.#commit(req, false);
    } catch (err) {
      // A write whose answer was lost may have committed: never resend it blindly.
      const plan = outcomeUnknown(err) ? resendPlan(req) : null;
      if (!plan) throw err;
      return this.#settle(req, err, plan, sentAfter);
    }
  }

  /** Sends a txn once the generation is pinned (a write is resent only after a refusal before proposal). */
  async #commit(req: TxnRequest, idempotent: boolean): Promise<TxnResponse> {
    const { revision, inner } = (await this.#pinned(() => toEtcdTxn(this.#ks, req), idempotent))!;
    const ops = inner.succeeded ? req.success : (req.failure ?? []);
    return { succeeded: inner.succeeded, revision, results: ops.map((op, i) => toResult(this.#ks, op, inner.responses[i])) };
  }

  /**
   * A write whose outcome is unknown and that fails its own compares once applied (settle.ts):
   * once etcd answers a read again (held), it is resent. Its success is the answer. A txn fenced
   * only by keys it creates is resent only while etcd's history shows no write of them since
   * before its first copy was sent (`sentAfter`, an etcd revision). A resend that loses its
   * compares, a history showing such a write or unable to say, or etcd staying without a leader
   * for the whole hold, leaves the outcome unknown: the first failure is thrown (never `No
   * cluster leader`, which says nothing was applied).
   */
  async #settle(req: TxnRequest, firstErr: unknown, plan: Resend, sentAfter: number): Promise<TxnResponse> {
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      let res: TxnResponse;
      try {
        const head = await this.#head();
        if (plan.checkHistory.length > 0) {
          const keys = plan.checkHistory.map((k) => this.#ks.physical(k));
          const written = await writtenBetween(this.#live().calls, keys, sentAfter, head, { timeoutMs: this.#opts.requestTimeoutMs });
          if (written !== false) break;
        }
        res = await this.#commit(req, false);
      } catch (err) {
        if (err instanceof ClosedError) throw err;
        if (outcomeUnknown(err)) continue;
        break;
      }
      if (!res.succeeded) break;
      this.#log.info({ revision: res.revision }, 'a write whose outcome etcd left unknown was sent again and applied');
      return res;
    }
    throw firstErr;
  }

  watch(afterRevision: number, handlers: WatchHandlers): Watch {
    const client = this.#live();
    const w = new EtcdWatch(client.calls, this.#ks, afterRevision, handlers, {
      log: this.#log,
      onEnd: (done) => this.#watches.delete(done),
    });
    this.#watches.add(w);
    return w;
  }

  async leaseGrant(ttlSeconds: number): Promise<LeaseGrant> {
    this.#live();
    return this.#leases!.grant(ttlSeconds);
  }

  async leaseKeepAlive(id: number): Promise<void> {
    this.#live();
    return this.#leases!.keepAlive(id);
  }

  async leaseRevoke(id: number): Promise<void> {
    this.#live();
    return this.#leases!.revoke(id);
  }

  async *snapshot(): AsyncIterable<Uint8Array> {
    this.#live();
    yield* await snapshotNamespace(this.#ks, (build) => this.#read(build), this.#leases!);
  }

  async restore(stream: AsyncIterable<Uint8Array>): Promise<number> {
    this.#live();
    return restoreNamespace(this.#ks, this.#live(), this.#leases!, stream);
  }
}
