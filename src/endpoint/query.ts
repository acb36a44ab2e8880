// Read-side plumbing shared by every endpoint: query options, response meta, consistency modes
// and Consul's blocking-query loop (run, compare index, wait on the watch set, re-run).
import type { EnterpriseMeta, WatchSet } from '../state/index.ts';
import type { Abortable } from '../state/notify.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';

/** Consistency mode of a read. */
export type Consistency = 'default' | 'stale' | 'consistent';

/** Options every read accepts (parsed by the transport). */
export interface QueryOptions {
  /** Block until the result index exceeds this (0: answer at once). */
  minIndex: number;
  /** Requested wait in ms (0: the default query time). */
  waitMs: number;
  consistency: Consistency;
  token: string;
  /** The caller's resolved identity; absent for internal callers (no enforcement). */
  authz?: AclIdentity;
  /** Aborted when the client goes away (an AbortSignal, or the transport's lighter abort). */
  signal?: Abortable;
  /**
   * Identifies this read among identical ones (route, parameters other than index and wait, and
   * token): reads with the same key at the same replica revision share one result
   * (endpoint/shared-reads.ts). Only set by reads whose answer depends on nothing else.
   */
  shareKey?: string;
  /**
   * A stale read's staleness bound in ms (?max_stale, discovery_max_stale): past it, on a server
   * that has not heard from the store for longer, the read is answered as a default one after a
   * consistent read, as Consul's catalog and health endpoints re-ask the leader (RETRY_ONCE).
   */
  maxStaleMs?: number;
  /**
   * The namespace and partition the read is in (endpoint/tenancy.ts resolveEnt); absent means the
   * default tenant, as for every internal caller and every handler not converted to tenancy.
   */
  ent?: EnterpriseMeta;
  /** The request named a namespace or partition (`default` included): records show Consul Enterprise's tenancy fields. */
  entNamed?: boolean;
}

/** Metadata of a read answer, written by transports as X-Consul-* headers. */
export interface QueryMeta {
  index: number;
  knownLeader: boolean;
  /** Milliseconds since this server last heard from the leader (0 on the leader). */
  lastContact: number;
  /** Value of X-Consul-Effective-Consistency. */
  consistency: 'leader' | 'stale' | 'consistent';
  /** ACLs removed results (X-Consul-Results-Filtered-By-ACLs; only for callers with a token). */
  filteredByACLs?: boolean;
}

/** A read result and its meta. */
export interface QueryResult<T> {
  /** With a share key, the same object other reads got: never mutate it (nor, then, the result and its meta). */
  value: T;
  meta: QueryMeta;
}

/** What a query function returns on each run. */
export interface QueryRun<T> {
  index: number;
  value: T;
  /** Set when ACL filtering dropped something from `value`. */
  filtered?: boolean;
  /** A shared run's last answer (answer()): the readers it wakes together take one object. */
  answered?: QueryResult<T>;
}

/** Default query options: non-blocking, default consistency, anonymous. */
export function defaultQueryOptions(): QueryOptions {
  return { minIndex: 0, waitMs: 0, consistency: 'default', token: '' };
}

/** Consul's timeout for a blocking query: capped wait plus up to wait/16 jitter. */
export function queryTimeout(deps: EndpointDeps, waitMs: number): number {
  let t = waitMs;
  if (t > deps.config.maxQueryTime) t = deps.config.maxQueryTime;
  else if (t <= 0) t = deps.config.defaultQueryTime;
  return t + deps.random() * (t / 16);
}

/** Builds the response meta for the current server state. */
export function queryMeta(deps: EndpointDeps, index: number, consistency: Consistency): QueryMeta {
  const leader = deps.leadership.isLeader();
  return {
    index: Math.max(1, index),
    knownLeader: deps.leadership.knownLeader(),
    lastContact: leader ? 0 : Math.max(0, deps.clock.now() - deps.replica.lastContact),
    consistency: consistency === 'default' ? 'leader' : consistency,
  };
}

/** Whether this server's replica last heard from the store longer than `maxStaleMs` ago (never on the leader). */
function tooStale(deps: EndpointDeps, maxStaleMs: number): boolean {
  return !deps.leadership.isLeader() && deps.clock.now() - deps.replica.lastContact > maxStaleMs;
}

/** Waits until the replica holds every write committed before this call (`?consistent`), timed as rpc.consistentRead. */
export async function consistentRead(deps: EndpointDeps): Promise<void> {
  const time = deps.timeConsistentRead;
  if (!time) return catchUp(deps);
  // Timed whether or not it succeeds, as Consul's deferred MeasureSince.
  const t0 = performance.now();
  try {
    await catchUp(deps);
  } finally {
    const t1 = performance.now();
    time(t1 - t0, t1);
  }
}

/**
 * Waits until the replica holds every write committed before this call, untimed: for catching up
 * where Consul makes no consistent read (a write re-planned from current state, a DNS answer past
 * max_stale, which Consul asks again at default consistency), so rpc.consistentRead counts reads.
 */
export async function catchUp(deps: Pick<EndpointDeps, 'store' | 'replica'>): Promise<void> {
  await deps.replica.waitFor(await deps.store.currentRevision());
}

/**
 * Runs `compute` once, or, with a min index, until its index passes it or the wait times out;
 * with a share key, identical reads at the same revision take one computed result.
 * `compute` must register in `ws` everything its answer depends on.
 */
export function blockingQuery<T>(
  deps: EndpointDeps,
  opts: QueryOptions,
  compute: (ws: WatchSet) => QueryRun<T>,
): Promise<QueryResult<T>> {
  deps.countQuery?.();
  return runQuery(deps, opts, compute);
}

function runQuery<T>(deps: EndpointDeps, opts: QueryOptions, compute: (ws: WatchSet) => QueryRun<T>): Promise<QueryResult<T>> {
  if (opts.consistency === 'consistent') return consistentBlockingQuery(deps, opts, compute);
  if (opts.maxStaleMs !== undefined && opts.maxStaleMs > 0 && opts.consistency === 'stale' && tooStale(deps, opts.maxStaleMs)) {
    opts.consistency = 'default';
    opts.maxStaleMs = undefined;
    return consistentRead(deps).then(() => runQuery(deps, opts, compute));
  }
  try {
    const res = runShared(deps, opts, compute, deps.replica.notifier.watchSet());
    if (opts.minIndex === 0 || res.index > opts.minIndex) return Promise.resolve(answer(deps, opts, res));
  } catch (err) {
    return Promise.reject(err); // as an async function would: callers always get a promise
  }
  return new Promise((resolve, reject) => new BlockedQuery(deps, opts, compute, deps.clock.now() + queryTimeout(deps, opts.waitMs), resolve, reject).step());
}

/** One run of `compute`; with a share key, identical reads at the same revision take one computed result. */
function runShared<T>(deps: EndpointDeps, opts: QueryOptions, compute: (ws: WatchSet) => QueryRun<T>, ws: WatchSet): QueryRun<T> {
  const shared = deps.sharedReads;
  const key = opts.shareKey;
  return shared && key !== undefined ? shared.run(key, ws, compute) : compute(ws);
}

/**
 * One blocked read between runs: all it holds while it waits (the watch set's waiter calls
 * woken()), so that tens of thousands of idle blocking queries cost one small object each
 * instead of a suspended async function and its promise chain.
 */
class BlockedQuery<T> {
  readonly #deps: EndpointDeps;
  readonly #opts: QueryOptions;
  readonly #compute: (ws: WatchSet) => QueryRun<T>;
  readonly #deadline: number;
  readonly #resolve: (r: QueryResult<T>) => void;
  readonly #reject: (err: unknown) => void;

  constructor(
    deps: EndpointDeps, opts: QueryOptions, compute: (ws: WatchSet) => QueryRun<T>, deadline: number,
    resolve: (r: QueryResult<T>) => void, reject: (err: unknown) => void,
  ) {
    this.#deps = deps;
    this.#opts = opts;
    this.#compute = compute;
    this.#deadline = deadline;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  #run(ws: WatchSet): QueryRun<T> {
    return runShared(this.#deps, this.#opts, this.#compute, ws);
  }

  /** Runs the query; answers when its index passed the min index, the time is up or the client left, else waits. */
  step(): void {
    try {
      const ws = this.#deps.replica.notifier.watchSet();
      const res = this.#run(ws);
      if (res.index > this.#opts.minIndex) return this.#resolve(answer(this.#deps, this.#opts, res));
      const left = this.#deadline - this.#deps.clock.now();
      const signal = left > 0 ? this.#opts.signal : undefined; // the transport makes a signal on first use
      if (left <= 0 || signal?.aborted) this.#resolve(answer(this.#deps, this.#opts, res));
      else ws.notify(left, signal, this);
    } catch (err) {
      this.#reject(err);
    }
  }

  /** The wait's end. The re-run happens in a microtask, as an awaited wake-up would: after the wake-up that woke it returns. */
  woken(woken: boolean): void {
    queueMicrotask(() => (woken ? this.step() : this.#last()));
  }

  /** After a timeout or abort: one more run, answered whatever its index. */
  #last(): void {
    try {
      this.#resolve(answer(this.#deps, this.#opts, this.#run(this.#deps.replica.notifier.watchSet())));
    } catch (err) {
      this.#reject(err);
    }
  }
}

/** blockingQuery for `?consistent` reads: each run waits until the replica holds every committed write. */
async function consistentBlockingQuery<T>(deps: EndpointDeps, opts: QueryOptions, compute: (ws: WatchSet) => QueryRun<T>): Promise<QueryResult<T>> {
  const run = (ws: WatchSet): QueryRun<T> => runShared(deps, opts, compute, ws);
  await consistentRead(deps);
  let res = run(deps.replica.notifier.watchSet());
  if (opts.minIndex === 0 || res.index > opts.minIndex) return answer(deps, opts, res);
  const deadline = deps.clock.now() + queryTimeout(deps, opts.waitMs);
  for (;;) {
    const ws = deps.replica.notifier.watchSet();
    res = run(ws);
    if (res.index > opts.minIndex) break;
    const left = deadline - deps.clock.now();
    if (left <= 0 || opts.signal?.aborted) break;
    if (!(await ws.wait(left, opts.signal))) {
      res = run(deps.replica.notifier.watchSet());
      break;
    }
    await consistentRead(deps);
  }
  return answer(deps, opts, res);
}

function answer<T>(deps: EndpointDeps, opts: QueryOptions, res: QueryRun<T>): QueryResult<T> {
  const meta = queryMeta(deps, res.index, opts.consistency);
  // Consul reports ACL filtering only to callers that presented a token.
  if (res.filtered && opts.authz?.tokenGiven) meta.filteredByACLs = true;
  if (opts.shareKey === undefined) return { value: res.value, meta };
  // A change wakes every reader of a shared run at once, and each held query's promise (made when
  // it arrived, long since old) keeps its answer: one answer object per distinct meta instead of
  // one per reader, which the wave's scavenges promoted.
  const last = res.answered;
  if (last !== undefined && sameMeta(last.meta, meta)) return last;
  return res.answered = { value: res.value, meta };
}

function sameMeta(a: QueryMeta, b: QueryMeta): boolean {
  return a.index === b.index && a.knownLeader === b.knownLeader && a.lastContact === b.lastContact
    && a.consistency === b.consistency && a.filteredByACLs === b.filteredByACLs;
}
