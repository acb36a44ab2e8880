// Consul's validateProposedConfigEntryInServiceGraph for the discovery chain kinds: before a
// router, splitter, resolver, service-defaults or proxy-defaults entry is written or deleted,
// every chain it can change is compiled with the proposed entry in place; a chain that no longer
// compiles refuses the write with the compiler's text (a 500, as Consul answers it). An
// ingress-gateway entry, and a chain write under one, must leave each listener's services speaking
// its protocol (a tcp listener may front another protocol only through a chain that starts at a
// resolver, and only when the write is not the gateway's own). A sameness-group write must leave its
// partition at most one DefaultForFailover group (the chain's default failover).
import { createRequire } from 'node:module';
import { InternalError } from '../errors.ts';
import type { ConfigEntriesTable, EnterpriseMeta } from '../state/index.ts';
import type { ChainEntry } from '../connect/discovery-chain/index.ts';
import type { Compare, Op } from '../store/index.ts';
import { GUARD_PREFIX } from './name-guards.ts';
import { checkDefaultForFailover } from './config-entry-sameness.ts';
import { withEntryVirtualIP } from './virtual-ips.ts';
import type { EndpointDeps } from './deps.ts';

type Compiler = typeof import('../connect/discovery-chain/index.ts');
const require = createRequire(import.meta.url);
let compiler: Compiler | undefined;
const load = (): Compiler => (compiler ??= require('../connect/discovery-chain/index.ts') as Compiler);

/** The kinds whose writes can change a compiled chain. */
const GRAPH_KINDS = new Set(['service-router', 'service-splitter', 'service-resolver', 'service-defaults', 'proxy-defaults', 'ingress-gateway']);
const CHAIN_ENTRY_KINDS = ['service-router', 'service-splitter', 'service-resolver'];
const SAMENESS = 'sameness-group';
/** Consul compiles proposed chains in a throwaway context: it does not change the graph. */
const THROWAWAY_TRUST_DOMAIN = 'b6fc9da3-03d4-4b5a-9134-c045e9b20152.consul';

type Obj = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const fold = (k: string): string => k.toLowerCase().replace(/_/g, '');
const field = (o: unknown, name: string): unknown =>
  o && typeof o === 'object' ? Object.entries(o as Obj).find(([k]) => fold(k) === fold(name))?.[1] : undefined;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The other services a router, splitter or resolver entry sends traffic to (Consul's ListRelatedServices); none for other kinds. */
export function relatedServices(e: ChainEntry): Set<string> {
  const out = new Set<string>();
  const add = (o: unknown) => {
    const s = str(field(o, 'Service'));
    if (s) out.add(s);
  };
  if (e.Kind === 'service-router') for (const r of list(e.Routes)) add(field(r, 'Destination'));
  if (e.Kind === 'service-splitter') for (const s of list(e.Splits)) add(s);
  if (e.Kind === 'service-resolver') {
    add(field(e, 'Redirect'));
    for (const f of Object.values((field(e, 'Failover') ?? {}) as Obj)) {
      add(f);
      // Targets on cluster peers are not known here.
      for (const t of list(field(f, 'Targets'))) if (!str(field(t, 'Peer'))) add(t);
    }
  }
  out.delete(e.Name);
  return out;
}

/** A service a chain entry sends traffic to, in its namespace and partition. */
export interface RelatedService {
  name: string;
  namespace: string;
  partition: string;
}

/**
 * Consul's ListRelatedServices with tenancy: each service a router, splitter or resolver entry of
 * namespace `ns` and partition `ap` sends traffic to, a missing Service being the entry's own name
 * and a missing Namespace/Partition the enclosing one's (a failover target's, its failover's); the
 * entry's own service is left out.
 */
export function relatedServiceIds(e: ChainEntry, ns: string, ap: string): RelatedService[] {
  const out = new Map<string, RelatedService>();
  const add = (o: unknown, within?: unknown) => {
    const outerNs = str(field(within, 'Namespace')) || ns;
    const outerAp = str(field(within, 'Partition')) || ap;
    const id = {
      name: str(field(o, 'Service')) || e.Name,
      namespace: str(field(o, 'Namespace')) || outerNs,
      partition: str(field(o, 'Partition')) || outerAp,
    };
    if (id.name === e.Name && id.namespace === ns && id.partition === ap) return;
    out.set(`${id.partition}\0${id.namespace}\0${id.name}`, id);
  };
  if (e.Kind === 'service-router') for (const r of list(e.Routes)) { const d = field(r, 'Destination'); if (d) add(d); }
  if (e.Kind === 'service-splitter') for (const s of list(e.Splits)) add(s);
  if (e.Kind === 'service-resolver') {
    const redirect = field(e, 'Redirect');
    if (redirect) add(redirect);
    for (const f of Object.values((field(e, 'Failover') ?? {}) as Obj)) {
      const targets = list(field(f, 'Targets'));
      if (targets.length === 0) add(f);
      // Targets on cluster peers are not known here.
      for (const t of targets) if (!str(field(t, 'Peer'))) add(t, f);
    }
  }
  return [...out.values()];
}

/**
 * The services (as `<namespace>\0<name>`) a router, splitter or resolver entry of namespace `ns`
 * sends traffic to in other namespaces: a destination naming no namespace is in the entry's own.
 */
function crossNamespaceTargets(e: ChainEntry, ns: string): Set<string> {
  const out = new Set<string>();
  const add = (o: unknown) => {
    const s = str(field(o, 'Service')) || e.Name;
    const n = str(field(o, 'Namespace')) || ns;
    if (n !== ns) out.add(`${n}\0${s}`);
  };
  if (e.Kind === 'service-router') for (const r of list(e.Routes)) add(field(r, 'Destination'));
  if (e.Kind === 'service-splitter') for (const s of list(e.Splits)) add(s);
  if (e.Kind === 'service-resolver') {
    add(field(e, 'Redirect'));
    for (const f of Object.values((field(e, 'Failover') ?? {}) as Obj)) {
      add(f);
      for (const t of list(field(f, 'Targets'))) if (!str(field(t, 'Peer'))) add(t);
    }
  }
  return out;
}

/** The chains a change to `kind`/`name` can affect: its own and those of entries that lead to it. */
function affectedChains(table: ConfigEntriesTable, kind: string, name: string): Set<string> {
  const chains = new Set<string>();
  for (const k of CHAIN_ENTRY_KINDS) {
    for (const e of table.list(k)) {
      if (kind === 'proxy-defaults' || relatedServices(e).has(name)) chains.add(e.Name);
    }
  }
  if (kind !== 'proxy-defaults') chains.add(name);
  return chains;
}

/**
 * The tenant a chain check runs in, and how it reads entries of other namespaces (a redirect or
 * route to another namespace, the partition's proxy-defaults). Absent: the default tenant only.
 */
export interface ChainTenancy {
  namespace: string;
  partition: string;
  /** An entry of another namespace or partition. */
  get(kind: string, name: string, namespace: string, partition: string): ChainEntry | undefined;
  /** Kinds stored once per partition (the proposed entry stands for them in every namespace). */
  partitionLevel(kind: string): boolean;
  /** The other namespaces of the partition with their tables: chains there may lead into this one. */
  others?(): { namespace: string; table: ConfigEntriesTable }[];
}

/** The guard every chain-kind write bumps (Consul checks the graph inside its serial FSM apply). */
export const CHAIN_GRAPH_GUARD = `${GUARD_PREFIX}config-chain-graph`;

/**
 * The compare and op that serialize chain-kind writes planned at `revision`: the check reads many
 * entries (and which chains lead where), so two writes each fine alone (a splitter on web, web's
 * service-defaults set to tcp) could otherwise both commit a graph that does not compile.
 */
export function chainGraphGuard(kind: string, revision: number): { compares: Compare[]; ops: Op[] } {
  // Sameness groups too: two groups each written with DefaultForFailover would both pass their check.
  if (!GRAPH_KINDS.has(kind) && kind !== SAMENESS) return { compares: [], ops: [] };
  return {
    compares: [{ key: CHAIN_GRAPH_GUARD, target: 'modRevision', op: '<', value: revision + 1 }],
    ops: [{ type: 'put', key: CHAIN_GRAPH_GUARD, value: new Uint8Array(0) }],
  };
}

/**
 * What a config entry write (`entry` null: its delete) adds to its txn: the chain-graph guard, and
 * for a resolver, router or splitter the service's VIP assigned or freed (withEntryVirtualIP).
 */
export function entryWriteGuard(deps: EndpointDeps, kind: string, name: string, ent: EnterpriseMeta | undefined, entry: Record<string, unknown> | null): { compares: Compare[]; ops: Op[] } {
  return withEntryVirtualIP(deps, chainGraphGuard(kind, deps.replica.appliedRevision), kind, name, ent, entry);
}

/**
 * Throws Consul's error when writing `proposed` (null: deleting) as `kind`/`name` would leave a
 * discovery chain that does not compile, or a partition with two default sameness groups; other
 * kinds pass unchecked.
 */
export function checkChainGraph(table: ConfigEntriesTable, kind: string, name: string, proposed: Obj | null, tenancy?: ChainTenancy): void {
  if (kind === SAMENESS) return checkDefaultForFailover(table, name, proposed);
  if (!GRAPH_KINDS.has(kind)) return;
  const { compileChain, ChainGraphError } = load();
  const ns = tenancy?.namespace ?? 'default';
  const ap = tenancy?.partition ?? 'default';
  const entries = {
    get: (k: string, n: string, namespace = ns, partition = ap): ChainEntry | undefined => {
      if (k === kind && n === name && (tenancy?.partitionLevel(k) || (namespace === ns && partition === ap))) return (proposed ?? undefined) as ChainEntry | undefined;
      if (namespace === ns && partition === ap) return table.get(k, n);
      return tenancy ? tenancy.get(k, n, namespace, partition) : undefined;
    },
  };
  const compiled = new Map<string, { protocol: string; startsAtResolver: boolean }>();
  const compile = (chain: string, namespace = ns) => {
    const id = `${namespace}\0${chain}`;
    let c = compiled.get(id);
    if (c) return c;
    try {
      const out = compileChain({ serviceName: chain, datacenter: 'dc1', trustDomain: THROWAWAY_TRUST_DOMAIN, entries, namespace, partition: ap });
      c = { protocol: out.Protocol ?? 'tcp', startsAtResolver: (out.StartNode ?? '').startsWith('resolver:') };
    } catch (err) {
      if (err instanceof ChainGraphError) throw new InternalError(err.message);
      throw err;
    }
    compiled.set(id, c);
    return c;
  };
  const affected = kind === 'ingress-gateway' ? new Set<string>() : affectedChains(table, kind, name);
  for (const chain of [...affected].sort()) compile(chain);
  // Chains of other namespaces of the partition that lead here (or every chain, for the partition's proxy-defaults).
  if (kind !== 'ingress-gateway' && tenancy?.others) {
    const here = `${ns}\0${name}`;
    for (const other of tenancy.others()) {
      for (const k of CHAIN_ENTRY_KINDS) {
        for (const e of other.table.list(k)) {
          if (kind === 'proxy-defaults' || crossNamespaceTargets(e, other.namespace).has(here)) compile(e.Name, other.namespace);
        }
      }
    }
  }
  // The gateway's own write must match exactly; a chain write is checked against the gateways fronting what it changes.
  const own = kind === 'ingress-gateway';
  const gateways = own ? (proposed ? [proposed] : []) : table.list('ingress-gateway') as unknown as Obj[];
  for (const g of gateways) {
    for (const l of list(field(g, 'Listeners'))) {
      const want = str(field(l, 'Protocol')) || 'tcp';
      for (const svc of list(field(l, 'Services'))) {
        const s = str(field(svc, 'Name'));
        if (!s || s === '*' || (!own && kind !== 'proxy-defaults' && !affected.has(s))) continue;
        const c = compile(s);
        if (c.protocol === want || (!own && want === 'tcp' && c.startsAtResolver)) continue;
        throw new InternalError(`service ${JSON.stringify(s)} has protocol ${JSON.stringify(c.protocol)}, which does not match defined listener protocol ${JSON.stringify(want)}`);
      }
    }
  }
}
