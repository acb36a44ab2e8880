// A watch plan as Consul's api/watch builds and runs it: parameters are checked per type
// (funcs.go, watch.go's Parse) and the plan loops on blocking queries, calling the handler
// only when the index moved and the result changed, backing off 5s×failures² on errors (plan.go).
// Indexes are BigInts: an event watch's index is a 64-bit hash of the last event ID.

import { isDeepStrictEqual } from 'node:util';
import type { ConsulClient, KVPair, QueryMeta } from '../api/index.ts';
import { EventApi, eventIdToIndex } from '../api/event.ts';

/** The parameters the CLI collects (only flags that were given). */
export type WatchParams = Record<string, string | boolean | string[]>;

/** One blocking fetch: the index to wait past (0 = none) to the new index and result. */
export type Watcher = (last: bigint, signal: AbortSignal) => Promise<{ index: bigint; result: unknown }>;

/** A parsed watch: its type and fetch function. */
export interface WatchPlan {
  type: string;
  watcher: Watcher;
}

/** Types Consul parses but its CLI refuses. */
const CLI_UNSUPPORTED = new Set(['connect_roots', 'connect_leaf', 'agent_service']);

class Params {
  readonly #p: WatchParams;
  constructor(p: WatchParams) {
    this.#p = { ...p };
  }
  str(name: string): string {
    const v = this.#p[name];
    delete this.#p[name];
    if (v !== undefined && typeof v !== 'string') throw new Error(`Expecting ${name} to be a string`);
    return v ?? '';
  }
  bool(name: string): boolean {
    const v = this.#p[name];
    delete this.#p[name];
    if (v !== undefined && typeof v !== 'boolean') throw new Error(`Expecting ${name} to be a boolean`);
    return v ?? false;
  }
  list(name: string): string[] {
    const v = this.#p[name];
    delete this.#p[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [String(v)];
  }
  left(): string[] {
    return Object.keys(this.#p);
  }
}

/** The KVPair with Go's api.KVPair field order, as Consul's handlers receive it. */
function goKVPair(p: KVPair): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Key: p.Key, CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex, LockIndex: p.LockIndex,
    Flags: p.Flags, Value: p.Value, Session: p.Session ?? '',
  };
  if (p.Namespace) out.Namespace = p.Namespace;
  if (p.Partition) out.Partition = p.Partition;
  return out;
}

const at = (meta: QueryMeta, result: unknown) => ({ index: BigInt(meta.index), result });

type Factory = (p: Params, c: ConsulClient) => Watcher;

const FACTORIES: Record<string, Factory> = {
  key(p, c) {
    const stale = p.bool('stale');
    const key = p.str('key');
    if (!key) throw new Error('Must specify a single key to watch');
    return async (last, signal) => {
      const index = Number(last);
      const { data, meta } = await c.kv.get(key, { index, stale, signal });
      return at(meta, data ? goKVPair(data) : null);
    };
  },
  keyprefix(p, c) {
    const stale = p.bool('stale');
    const prefix = p.str('prefix');
    if (!prefix) throw new Error('Must specify a single prefix to watch');
    return async (last, signal) => {
      const index = Number(last);
      const { data, meta } = await c.kv.list(prefix, { index, stale, signal });
      // Go's client yields a nil slice (JSON null) when nothing is under the prefix.
      return at(meta, data.length ? data.map(goKVPair) : null);
    };
  },
  services(p, c) {
    const stale = p.bool('stale');
    const filter = p.str('filter');
    return async (last, signal) => {
      const index = Number(last);
      const { data, meta } = await c.catalog.services({ index, stale, signal, filter });
      return at(meta, data);
    };
  },
  nodes(p, c) {
    const stale = p.bool('stale');
    const filter = p.str('filter');
    return async (last, signal) => {
      const index = Number(last);
      const { data, meta } = await c.catalog.nodes({ index, stale, signal, filter });
      return at(meta, data);
    };
  },
  service(p, c) {
    const stale = p.bool('stale');
    const service = p.str('service');
    if (!service) throw new Error('Must specify a single service to watch');
    const tags = p.list('tag');
    const passing = p.bool('passingonly');
    const filter = p.str('filter');
    return async (last, signal) => {
      const index = Number(last);
      const { data, meta } = await c.health.service(service, { index, stale, signal, tags, passing, filter });
      return at(meta, data);
    };
  },
  checks(p, c) {
    const stale = p.bool('stale');
    const service = p.str('service');
    let state = p.str('state');
    if (service && state) throw new Error('Cannot specify service and state');
    if (!service && !state) state = 'any';
    p.list('tag');
    const filter = p.str('filter');
    return async (last, signal) => {
      const index = Number(last);
      const opts = { index, stale, signal, filter };
      const { data, meta } = state ? await c.health.state(state as 'any', opts) : await c.health.checks(service, opts);
      return at(meta, data);
    };
  },
  event(p, c) {
    // The stale setting doesn't apply to events.
    const name = p.str('name');
    const events = new EventApi(c);
    return async (last, signal) => {
      const { data, index } = await events.listBlocking(name, { index: last, signal });
      // Prune to only the events after the one the previous index was derived from.
      const seen = last ? data.findIndex((e) => eventIdToIndex(e.ID) === last) : -1;
      return { index, result: seen >= 0 ? data.slice(seen + 1) : data };
    };
  },
  connect_roots: () => unsupported,
  connect_leaf: (p) => (p.str('service'), unsupported),
  agent_service: (p) => (p.str('service_id'), unsupported),
};

const unsupported: Watcher = async () => {
  throw new Error('unsupported');
};

/** Checks the parameters as Consul's watch.Parse does; throws with its messages. */
export function parseWatch(params: WatchParams, client: ConsulClient): WatchPlan {
  const p = new Params(params);
  p.str('datacenter');
  p.str('token');
  const type = p.str('type');
  if (!type) throw new Error('Watch type must be specified');
  const factory = FACTORIES[type];
  if (!factory) throw new Error(`Unsupported watch type: ${type}`);
  const watcher = factory(p, client);
  const left = p.left();
  if (left.length) throw new Error(`Invalid parameters: [${left.join(' ')}]`);
  if (CLI_UNSUPPORTED.has(type)) throw new Error(`Type ${type} is not supported in the CLI tool`);
  return { type, watcher };
}

/** How a plan reports and waits; `sleep` resolves early when the signal aborts. */
export interface PlanRuntime {
  signal: AbortSignal;
  onError(type: string, err: Error, retryMs: number): void;
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

/** Runs the plan until the signal aborts or the handler returns false. */
export async function runPlan(plan: WatchPlan, handler: (index: bigint, result: unknown) => Promise<boolean>, rt: PlanRuntime): Promise<void> {
  const sleep = rt.sleep ?? abortableSleep;
  let last: bigint | undefined;
  let lastResult: unknown;
  let failures = 0;
  while (!rt.signal.aborted) {
    let got: { index: bigint; result: unknown };
    try {
      got = await plan.watcher(last ?? 0n, rt.signal);
    } catch (err) {
      if (rt.signal.aborted) break;
      failures++;
      last = undefined;
      const retry = Math.min(5000 * failures * failures, 180_000);
      rt.onError(plan.type, err as Error, retry);
      await sleep(retry, rt.signal);
      continue;
    }
    failures = 0;
    if (last !== undefined && last === got.index) continue;
    const old = last;
    last = got.index;
    if (old !== undefined && isDeepStrictEqual(lastResult, got.result)) continue;
    lastResult = got.result;
    if (!(await handler(got.index, got.result))) break;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
