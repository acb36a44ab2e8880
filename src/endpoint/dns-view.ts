// The catalog as DNS sees it: instances of a service with their aggregated health, cached per
// service name and rebuilt only when that service's index moves (its instances, their checks
// or their nodes changed), plus case-insensitive node and address lookups for node and PTR
// queries. No DNS query scans the whole catalog. With ACLs, answers keep only the nodes and
// services the DNS token may read (Consul's dns token: node:read plus service:read).
import { createRequire } from 'node:module';
import { denyAll, type Authorizer } from '../acl/index.ts';
import { DEFAULT_ENT, entKey, foldName, isDefaultEnt, partitionPeerImports, type EnterpriseMeta, type Replica } from '../state/index.ts';
import type { Node, NodeService } from '../api/catalog-types.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { terminatingGatewaysFor } from './terminating-links.ts';
import type { TenantDnsView } from './dns-tenancy.ts';
import { entContext } from './acl-enforce.ts';
import type { SamenessGroup } from './sameness.ts';

// What only some questions need loads with the first of them, not with the DNS handlers (issue #9):
// other tenants' and peers' readers and reverse lookups (dns-tenancy.ts), `.ingress` gateways
// (gateway-services.ts) and `.sg` sameness groups (sameness.ts). With require: DNS reads are synchronous.
const require = createRequire(import.meta.url);
let tenancyModule: typeof import('./dns-tenancy.ts') | undefined;
let gatewaysModule: typeof import('./gateway-services.ts') | undefined;
let samenessModule: typeof import('./sameness.ts') | undefined;
const tenancy = () => tenancyModule ??= require('./dns-tenancy.ts') as typeof import('./dns-tenancy.ts');
const gateways = () => gatewaysModule ??= require('./gateway-services.ts') as typeof import('./gateway-services.ts');
const sameness = () => samenessModule ??= require('./sameness.ts') as typeof import('./sameness.ts');

const TERMINATING = 'terminating-gateway';
const DEFAULT_PARTITION = 'default';

/** How DNS queries are authorized when ACLs are on. */
export interface DnsAcl {
  /** The secret queries run under now: acl.tokens.dns, else acl.tokens.default ('' = anonymous). */
  token(): string;
  /** Resolves a secret; an unknown one answers nothing rather than failing the query. */
  resolve(secret: string): AclIdentity;
}

/** A service instance with its node and the aggregate status of the checks that apply to it. */
export interface DnsInstance {
  node: Node;
  service: NodeService;
  /** critical if any check is critical, warning if any is not passing, else passing. */
  status: 'passing' | 'warning' | 'critical';
  /** True when every check is passing (what `only_passing` keeps). */
  allPassing: boolean;
}

interface Cached {
  index: number;
  instances: DnsInstance[];
}

/** What DNS answering reads: a DnsView, or nothing at all (a client agent's recursion-only handler). */
export type DnsReader = Pick<DnsView, 'instances' | 'hasService' | 'serviceKey' | 'version' | 'node' | 'nodeByAddress' | 'serviceByAddress'> & Partial<Pick<DnsView, 'token' | 'ingress' | 'stamp' | 'peerInstances' | 'peerNode' | 'tenant' | 'samenessGroup' | 'exportedTo' | 'virtualIP'>>;

/** A reader that knows no service, node or address. */
export const EMPTY_DNS_READER: DnsReader = {
  instances: () => [], hasService: () => false, serviceKey: () => undefined, version: () => 0,
  node: () => undefined, nodeByAddress: () => undefined, serviceByAddress: () => undefined,
};

/** Read views for the DNS transport over the replica's catalog tables. */
export class DnsView {
  readonly #replica: Replica;
  readonly #services = new Map<string, Cached>();
  readonly #derived = new Map<string, { index: number; value: unknown }>();
  readonly #acl: DnsAcl | undefined;
  #secret = '';
  #tokenChanges = 0;
  /** The ACL generation stamp() last saw, and how many times it has moved (ACL indexes may go back after a re-list). */
  #stampAcl = 0;
  #aclChanges = 0;
  /** Readers of the tenants other than default/default asked about (dns-tenancy.ts), by entKey. */
  readonly #tenants = new Map<string, TenantDnsView>();

  constructor(replica: Replica, acl?: DnsAcl) {
    this.#replica = replica;
    this.#acl = acl;
  }

  /**
   * The reader of a namespace or partition other than default/default (names folded), or undefined
   * when it does not exist or is being deleted (answered NXDOMAIN); its cached answers go with it.
   */
  tenant(ent: EnterpriseMeta): DnsReader | undefined {
    const key = entKey(ent);
    if (!tenancy().dnsTenantExists(this.#replica, ent)) {
      this.#tenants.delete(key);
      return undefined;
    }
    let t = this.#tenants.get(key);
    if (!t) {
      // Readers of tenants deleted (or being deleted) since they were asked go before a new one is kept.
      for (const [k, r] of this.#tenants) if (!tenancy().dnsTenantExists(this.#replica, r.ent)) this.#tenants.delete(k);
      t = new (tenancy().TenantDnsView)(this.#replica, ent, () => this.#authz(), (e) => (isDefaultEnt(e) ? this : this.tenant(e)));
      this.#tenants.set(key, t);
    }
    return t;
  }

  /** How many tenant readers are kept (tests). */
  get tenantCount(): number {
    return this.#tenants.size;
  }

  /** The secret DNS queries run under now ('' without ACLs): prepared queries execute with it. */
  token(): string {
    return this.#acl?.token() ?? '';
  }

  // The DNS token's authorizer, or undefined when ACLs are off.
  #authz(): Authorizer | undefined {
    if (!this.#acl) return undefined;
    this.#aclGeneration();
    try {
      return this.#acl.resolve(this.#secret).authorizer;
    } catch {
      return denyAll();
    }
  }

  // Moves whenever what the DNS token may read can change: an ACL table write or a new token.
  // Both parts only grow, so their sum changes whenever either does.
  #aclGeneration(): number {
    if (!this.#acl) return 0;
    const secret = this.#acl.token();
    if (secret !== this.#secret) [this.#secret, this.#tokenChanges] = [secret, this.#tokenChanges + 1];
    return this.#replica.acl.index + this.#tokenChanges;
  }

  #nodeReadable(authz: Authorizer | undefined, node: string): boolean {
    return !authz || authz.nodeRead(node) === 'allow';
  }

  #serviceReadable(authz: Authorizer | undefined, service: string): boolean {
    return !authz || authz.serviceRead(service) === 'allow';
  }

  /** Instances of a service (or its mesh endpoints), critical ones excluded, warning too when `onlyPassing`. */
  instances(name: string, opts: { connect?: boolean; onlyPassing?: boolean; tag?: string } = {}): DnsInstance[] {
    const actual = this.#serviceName(name, opts.connect === true);
    if (actual === undefined) return [];
    const own = this.#cached(actual, opts.connect === true);
    // A service linked to terminating gateways is reached through them too (Consul's connect
    // lookup reads the same health/connect answer, gateways appended).
    const all = opts.connect ? this.#withGateways(actual, own) : own;
    const tag = opts.tag?.toLowerCase();
    const authz = this.#authz();
    return all.filter((i) => i.status !== 'critical' && (!opts.onlyPassing || i.allPassing)
      && (!tag || (i.service.Tags ?? []).some((t) => t.toLowerCase() === tag))
      && this.#serviceReadable(authz, i.service.Service) && this.#nodeReadable(authz, i.node.Node));
  }

  // `own` followed by the instances of the terminating gateways linking the service; nothing more
  // to do while there is no terminating-gateway entry.
  #withGateways(key: string, own: DnsInstance[]): DnsInstance[] {
    const entries = this.#replica.configEntries;
    if (entries.count(TERMINATING) === 0) return own;
    const gateways = terminatingGatewaysFor(this.#replica.catalog, entries, key);
    if (gateways.length === 0) return own;
    const out = [...own];
    for (const gw of gateways) for (const i of this.#cached(foldName(gw), false)) if (i.service.Kind === TERMINATING) out.push(i);
    return out;
  }

  /**
   * Instances of the ingress gateways fronting a service (Consul's `.ingress` lookup), filtered as
   * instances() filters them; nothing when the DNS token may not read the service.
   */
  ingress(name: string, opts: { onlyPassing?: boolean } = {}): DnsInstance[] {
    if (!this.#serviceReadable(this.#authz(), name)) return [];
    return gateways().ingressGateways(this.#replica, name).flatMap((gw) => this.instances(gw, { onlyPassing: opts.onlyPassing }));
  }

  /**
   * Instances of a service imported from a cluster peer (`<service>.service.<peer>.peer`),
   * filtered as instances() filters local ones.
   */
  peerInstances(peer: string, name: string, opts: { onlyPassing?: boolean; tag?: string } = {}): DnsInstance[] {
    const authz = this.#authz();
    return tenancy().peerDnsInstances(this.#replica.peerImports.service(peer, name), opts,
      (svc, node) => this.#serviceReadable(authz, svc) && this.#nodeReadable(authz, node));
  }

  /** A node imported from a peer into the default partition (`<node>.node.<peer>.peer`). */
  peerNode(peer: string, name: string): Node | undefined {
    const node = tenancy().peerDnsNode(partitionPeerImports(this.#replica, DEFAULT_PARTITION).map((t) => t.table), peer, name);
    return node && this.#nodeReadable(this.#authz(), node.Node) ? node : undefined;
  }

  /** A partition's sameness group (`.sg` names), undefined when it has none of that name. */
  samenessGroup(partition: string, name: string): SamenessGroup | undefined {
    return sameness().samenessGroup(this.#replica, partition, name);
  }

  /** Whether partition `from` exports the service of `namespace` to partition `to` (a `.sg` partition member counts only then). */
  exportedTo(from: string, namespace: string, service: string, to: string): boolean {
    return sameness().exportedToPartition(this.#replica, from, namespace, service, to);
  }

  /** True when the catalog knows the service name (for NODATA vs NXDOMAIN decisions). */
  hasService(name: string, connect = false): boolean {
    return this.#serviceName(name, connect) !== undefined;
  }

  /**
   * The cache key of a service's instances (folded `name` or `connect:name`, as the catalog's service index keys it),
   * undefined when unknown; with `version` it stamps anything derived from `instances()`.
   */
  serviceKey(name: string, connect = false): string | undefined {
    const actual = this.#serviceName(name, connect);
    return actual === undefined || !connect ? actual : `connect:${actual}`;
  }

  /**
   * A number that moves whenever anything serviceKey(), version() or instances() answer may have
   * changed (any catalog event, an ACL table write, a new DNS token) and never returns to an
   * earlier value: while it stays, results derived from them need no re-checking.
   */
  stamp(): number {
    const acl = this.#aclGeneration();
    if (acl !== this.#stampAcl) {
      this.#stampAcl = acl;
      this.#aclChanges++;
    }
    // Terminating-gateway entries change mesh (connect) answers too; the kind's index only grows.
    return this.#replica.catalog.generation + this.#aclChanges + this.#replica.configEntries.kindIndex(TERMINATING);
  }

  /** The index of a service key: it moves whenever that service's instances, checks or nodes change (0 when unknown). */
  version(key: string): number {
    let index = this.#replica.catalog.serviceIndex.get(key) ?? 0;
    if (key.startsWith('connect:')) index = Math.max(index, this.#gatewaysIndex(key.slice('connect:'.length)));
    return index === 0 ? 0 : index + this.#aclGeneration();
  }

  // The highest index of what the terminating gateways of a service's mesh view depend on: the
  // entries, the service's own instances (a wildcard link follows them) and the gateways' instances.
  #gatewaysIndex(key: string): number {
    const entries = this.#replica.configEntries;
    if (entries.count(TERMINATING) === 0) return 0;
    const cat = this.#replica.catalog;
    let index = Math.max(entries.kindIndex(TERMINATING), cat.serviceIndex.get(key) ?? 0);
    for (const gw of terminatingGatewaysFor(cat, entries, key)) index = Math.max(index, cat.serviceIndex.get(foldName(gw)) ?? 0);
    return index;
  }

  // The catalog's folded key of a known service name. A service the DNS token may not read
  // (under any of its stored spellings) is unknown to DNS (NXDOMAIN, as Consul answers).
  #serviceName(name: string, connect: boolean): string | undefined {
    const cat = this.#replica.catalog;
    const key = foldName(name);
    if (!(connect ? cat.byConnect : cat.byName).has(key) && !(connect && this.#linkedToGateway(key))) return undefined;
    const authz = this.#authz();
    if (!authz) return key;
    const spellings = connect ? [name] : cat.serviceTags(key).map(([n]) => n);
    return spellings.some((n) => this.#serviceReadable(authz, n)) ? key : undefined;
  }

  #linkedToGateway(key: string): boolean {
    const entries = this.#replica.configEntries;
    return entries.count(TERMINATING) > 0 && terminatingGatewaysFor(this.#replica.catalog, entries, key).length > 0;
  }

  #cached(name: string, connect: boolean): DnsInstance[] {
    const cat = this.#replica.catalog;
    const key = connect ? `connect:${name}` : name;
    const index = cat.serviceIndex.get(key) ?? 0;
    const hit = this.#services.get(key);
    if (hit && hit.index === index && index !== 0) return hit.instances;
    const instances = cat.instances(name, connect).map(({ node, service }) => {
      const checks = cat.instanceChecks(node.Node, service.ID);
      const critical = checks.some((c) => c.Status === 'critical');
      const allPassing = checks.every((c) => c.Status === 'passing');
      return { node, service, status: critical ? 'critical' : allPassing ? 'passing' : 'warning', allPassing } as DnsInstance;
    });
    if (instances.length === 0) this.#services.delete(key);
    else this.#services.set(key, { index, instances });
    return instances;
  }

  /**
   * The virtual IP of a mesh service of `ent` (default/default when absent; `peer`: the service
   * imported from that peer), from the replica's precomputed addresses; undefined when it has none
   * or the DNS token may not read the service.
   */
  virtualIP(name: string, ent?: EnterpriseMeta, peer = ''): string | undefined {
    const e = ent ?? DEFAULT_ENT;
    const address = this.#replica.virtualIPs.address(e, name, peer);
    if (address === undefined) return undefined;
    const authz = this.#authz();
    return !authz || authz.serviceRead(name, entContext(e)) === 'allow' ? address : undefined;
  }

  /** A node by name, case-insensitively. */
  node(name: string): Node | undefined {
    const node = this.#replica.catalog.node(name);
    return node && this.#nodeReadable(this.#authz(), node.Node) ? node : undefined;
  }

  /** The node whose address is `ip` (for PTR), however either spells an IPv6 address. */
  nodeByAddress(ip: string): Node | undefined {
    const node = this.#nodesByAddress().get(ipKey(ip));
    return node && this.#nodeReadable(this.#authz(), node.Node) ? node : undefined;
  }

  /**
   * A service instance whose own address is `ip` (for PTR when no node matches): of the default
   * namespace, else of another namespace of the default partition (then with its Namespace).
   */
  serviceByAddress(ip: string): NodeService | undefined {
    const authz = this.#authz();
    const svc = this.#serviceAddrs().get(ipKey(ip));
    if (svc && this.#serviceReadable(authz, svc.Service)) return svc;
    return tenancy().partitionServiceByAddress(this.#replica, 'default', ip, (ent, s) => !authz || authz.serviceRead(s, entContext(ent)) === 'allow');
  }

  #nodesByAddress(): Map<string, Node> {
    return this.#lazy('nodes', this.#replica.catalog.index.nodes, () => {
      const byAddr = new Map<string, Node>();
      for (const n of this.#replica.catalog.nodes.values()) if (!byAddr.has(ipKey(n.Address))) byAddr.set(ipKey(n.Address), n);
      return byAddr;
    });
  }

  #serviceAddrs(): Map<string, NodeService> {
    return this.#lazy('addrs', this.#replica.catalog.index.services, () => {
      const byAddr = new Map<string, NodeService>();
      for (const onNode of this.#replica.catalog.services.values()) {
        for (const s of onNode.values()) if (s.Address && !byAddr.has(ipKey(s.Address))) byAddr.set(ipKey(s.Address), s);
      }
      return byAddr;
    });
  }

  /** A derived map rebuilt only when its table index moves. */
  #lazy<T>(key: string, index: number, build: () => T): T {
    const hit = this.#derived.get(key);
    if (hit && hit.index === index) return hit.value as T;
    const value = build();
    this.#derived.set(key, { index, value });
    return value;
  }
}

/** One spelling per IPv6 address (RFC 5952, as URL hosts are serialized) so PTR lookups match however it was registered; others as they are. */
export function ipKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname;
  } catch {
    return ip;
  }
}
