// Leader duty: Consul's API gateway controller. While this server leads, every change of the
// config entries re-settles the api-gateway, http-route and tcp-route Status blocks and the
// bound-api-gateway entries (api-gateway-binding.ts), in each namespace of each partition (a route's
// parents and a listener's certificates are entries of its own namespace). A Status write
// keeps the entry and bumps its ModifyIndex (Consul's UpsertWithStatusCAS, pinned on the entry
// read); unchanged conditions are not written, so the loop settles.
import { createRequire } from 'node:module';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Op, Compare, Store } from '../store/index.ts';
import {
  DEFAULT_TENANCY_NAME, NAMESPACES_TABLE, configEntriesOf, configEntriesTableName, configEntryEnt, configEntryStoreKey, encodeRecord, isDefaultEnt,
  namespacesFor, type ConfigEntry, type EnterpriseMeta, type Replica,
} from '../state/index.ts';
import type { Condition } from './api-gateway-binding.ts';
import { entPins, writableEnt } from '../endpoint/tenancy.ts';
import { backgroundLoop, type LeaderLoop } from './loops.ts';

type Compiler = typeof import('../connect/discovery-chain/index.ts');
const require = createRequire(import.meta.url);
let compiler: Compiler | undefined;
/** The discovery chain compiler, loaded on the first pass that has gateways or routes (an agent start without any skips it, issue #9). */
const compileChain: Compiler['compileChain'] = (req) => (compiler ??= require('../connect/discovery-chain/index.ts') as Compiler).compileChain(req);
let binding: typeof import('./api-gateway-binding.ts') | undefined;
/** The binding rules, loaded on the same first pass. */
const bindings = () => (binding ??= require('./api-gateway-binding.ts') as typeof import('./api-gateway-binding.ts'));

/** What the controller needs. */
export interface ApiGatewayControllerDeps {
  store: Store;
  replica: Replica;
  clock: Clock;
  logger: Logger;
  /** Called at the start of each pass (an observer: tests count passes). */
  onPass?: () => void;
}

/** Kinds every pass reads, whatever the entries: its own and the certificates listeners name. */
const BASE_KINDS = ['api-gateway', 'http-route', 'tcp-route', 'bound-api-gateway', 'inline-certificate', 'file-system-certificate'];

/** Longest wait between passes with no config entry change. */
const RESCAN_MS = 60_000;
/** Wait after a failed pass. */
const RETRY_MS = 1_000;

/** One write the pass plans, pinned on what it read (the entry, and a namespace's and partition's records). */
interface Write {
  compares: Compare[];
  op: Op;
}

/** A stored entry's fields without the indexes and tenancy the store's keys supply. */
function stored(e: ConfigEntry): Record<string, unknown> {
  const { CreateIndex: _c, ModifyIndex: _m, Namespace: _n, Partition: _p, ...rest } = e;
  return rest;
}

/** Every tenant with a config entry table: undefined for the default one. */
function tenants(replica: Replica): (EnterpriseMeta | undefined)[] {
  const partitions = new Set([DEFAULT_TENANCY_NAME, ...[...replica.tenants.partitions.entries()].map(([id]) => id)]);
  return [...partitions].flatMap((ap) => namespacesFor(replica, ap)).map((ent) => (isDefaultEnt(ent) ? undefined : ent));
}

function pin(key: string, cur: ConfigEntry | undefined): Compare {
  return cur ? { key, target: 'modRevision', op: '=', value: cur.ModifyIndex } : { key, target: 'createRevision', op: '=', value: 0 };
}

/** The writes that bring every tenant's statuses and bound entries in line; `reads` collects the kinds the pass read. */
export function plannedWrites(replica: Replica, now: number, reads = new Set<string>()): Write[] {
  return tenants(replica).flatMap((ent) => plannedWritesIn(replica, ent, now, reads));
}

/** The writes one tenant (undefined: the default one) needs. */
function plannedWritesIn(replica: Replica, ent: EnterpriseMeta | undefined, now: number, reads: Set<string>): Write[] {
  // A namespace or partition being deleted is left to the reaper; the others' records are pinned, so a
  // write planned before a purge cannot land (a bound entry created) under the purged prefix.
  try {
    writableEnt(replica.tenants, ent);
  } catch {
    return [];
  }
  const tenantPins = entPins(replica.tenants, ent);
  const t = configEntriesOf(replica, ent);
  const configEntryKey = (kind: string, name: string) => configEntryStoreKey(ent, kind, name);
  const gateways = t.list('api-gateway');
  const httpRoutes = t.list('http-route');
  const tcpRoutes = t.list('tcp-route');
  const bounds = t.list('bound-api-gateway');
  if (gateways.length + httpRoutes.length + tcpRoutes.length + bounds.length === 0) return [];
  const { computeBindings, goTime, sameBound, sameConditions } = bindings();
  const ns = ent?.namespace ?? DEFAULT_TENANCY_NAME;
  const ap = ent?.partition ?? DEFAULT_TENANCY_NAME;
  // The chain's entries in their own tenant (proxy-defaults from the partition), as the discovery-chain endpoint reads them.
  const entries = {
    get: (kind: string, name: string, namespace = ns, partition = ap) => {
      reads.add(kind);
      const at = configEntryEnt(kind, { namespace, partition });
      return configEntriesOf(replica, at === undefined || isDefaultEnt(at) ? undefined : at).get(kind, name) as never;
    },
  };
  const result = computeBindings({
    gateways, httpRoutes, tcpRoutes, now: goTime(now),
    certificateExists: (kind, name) => {
      reads.add(kind);
      return t.get(kind, name) !== undefined;
    },
    // Compiled as Consul's controller does, in a stand-in datacenter and trust domain: only the protocol and errors matter.
    chainProtocol: (service) => compileChain({
      serviceName: service, datacenter: 'dc1', trustDomain: 'consul.domain', entries, ...(ent ? { namespace: ns, partition: ap } : {}),
    }).Protocol ?? 'tcp',
  });
  const writes: Write[] = [];
  for (const e of [...gateways, ...httpRoutes, ...tcpRoutes]) {
    const want = result.statuses.get(`${e.Kind}/${e.Name}`) ?? [];
    const have = ((e.Status as { Conditions?: Condition[] | null } | undefined)?.Conditions) ?? null;
    if (have !== null && sameConditions(have, want)) continue;
    const key = configEntryKey(e.Kind, e.Name);
    writes.push({ compares: [pin(key, e), ...tenantPins], op: { type: 'put', key, value: encodeRecord({ ...stored(e), Status: { Conditions: want } }) } });
  }
  for (const [name, b] of result.bound) {
    const cur = t.get('bound-api-gateway', name);
    if (sameBound(cur, b)) continue;
    const key = configEntryKey('bound-api-gateway', name);
    writes.push({ compares: [pin(key, cur), ...tenantPins], op: { type: 'put', key, value: encodeRecord({ ...b, ...(cur?.Meta ? { Meta: cur.Meta } : {}) }) } });
  }
  // A bound entry outlives its gateway only until the controller sees it gone (cleanupGateway).
  for (const b of bounds) {
    if (result.bound.has(b.Name)) continue;
    const key = configEntryKey('bound-api-gateway', b.Name);
    writes.push({ compares: [pin(key, b), ...tenantPins], op: { type: 'delete', key } });
  }
  return writes;
}

/**
 * One pass: each write in its own transaction (a lost race is left for the next pass, which the change itself wakes).
 * Once `signal` aborts (leadership lost) the rest of the pass is not written: a follower writes no status.
 */
export async function reconcileApiGateways(deps: ApiGatewayControllerDeps, signal?: AbortSignal, reads?: Set<string>): Promise<number> {
  let done = 0;
  for (const w of plannedWrites(deps.replica, deps.clock.now(), reads)) {
    if (signal?.aborted) break;
    const res = await deps.store.txn({ compares: w.compares, success: [w.op] });
    await deps.replica.waitFor(res.revision);
    if (res.succeeded) done++;
  }
  return done;
}

/**
 * The controller as a leader duty: a pass at start and after every change of a kind a pass reads
 * (its own kinds, certificates, and the discovery chain kinds its routes' services compile from),
 * in any tenant; other config entries (intentions, exported services, ...) wake no pass.
 */
export function apiGatewayControllerDuty(deps: ApiGatewayControllerDeps): LeaderLoop {
  const reads = new Set(BASE_KINDS);
  // The read kinds of every tenant's table, and the namespaces (a new one brings a table to follow).
  const index = () => tenants(deps.replica).reduce((n, ent) => {
    const t = configEntriesOf(deps.replica, ent);
    for (const kind of reads) n += t.kindIndex(kind);
    return n;
  }, deps.replica.tenants.namespaces.index);
  const run = async (signal: AbortSignal): Promise<void> => {
    while (!signal.aborted) {
      const seen = index();
      let wait = RESCAN_MS;
      try {
        deps.onPass?.();
        await reconcileApiGateways(deps, signal, reads);
      } catch (err) {
        deps.logger.warn({ error: (err as Error).message }, 'API gateway controller pass failed');
        wait = RETRY_MS;
      }
      if (signal.aborted) return;
      if (wait === RESCAN_MS && index() !== seen) continue;
      const ws = deps.replica.notifier.watchSet().addTable(NAMESPACES_TABLE);
      for (const ent of tenants(deps.replica)) for (const kind of reads) ws.addPrefix(configEntriesTableName(ent), `${kind}/`);
      await ws.wait(wait, signal);
    }
  };
  return backgroundLoop('api-gateway-controller', run);
}
