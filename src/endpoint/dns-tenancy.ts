// The catalog as DNS sees it inside one namespace (or a partition other than default): the same
// answers DnsView gives for the default tenant, read from that tenant's catalog tables
// (catalogOf) with the DNS token's rules evaluated in the namespace. Instances are cached per
// service and kept while the tenant's tables are the same object and the service's index stays,
// so a change in another namespace never rebuilds them; a namespace that is gone or marked for
// deletion has no reader (NXDOMAIN) and its cache is dropped with it. The default tenant never
// comes here: DnsView and the prepared answers keep their path unchanged.
import type { Authorizer, AuthorizerContext } from '../acl/index.ts';
import {
  catalogOf, configEntriesOf, allConfigEntryTables, foldName, foldTenancyName, namespaceCatalogs, partitionCatalog, partitionEnt, partitionPeerImports, peerImportsOf,
  DEFAULT_TENANCY_NAME, type CatalogTables, type PeerImportsTable, type EnterpriseMeta, type PeerImportRecord, type Replica,
} from '../state/index.ts';
import type { Node, NodeService } from '../api/catalog-types.ts';
import { ipKey, type DnsInstance } from './dns-view.ts';
import { entContext } from './acl-enforce.ts';
import { terminatingGatewaysFor } from './terminating-links.ts';

const INGRESS = 'ingress-gateway';
const TERMINATING = 'terminating-gateway';

interface Cached {
  table: CatalogTables;
  index: number;
  instances: DnsInstance[];
}

/** Whether a tenant exists for DNS: its partition and namespace records are present and not marked for deletion. */
export function dnsTenantExists(replica: Replica, ent: EnterpriseMeta): boolean {
  const ap = foldTenancyName(ent.partition);
  if (ap !== DEFAULT_TENANCY_NAME) {
    const p = replica.tenants.partitions.partition(ap);
    if (!p || p.DeletedAt) return false;
  }
  const ns = replica.tenants.namespaces.namespace({ partition: ap, namespace: foldTenancyName(ent.namespace) });
  // The default namespace of the default partition is builtin (its record may not be written yet on a fresh cluster).
  if (!ns) return ap === DEFAULT_TENANCY_NAME && foldTenancyName(ent.namespace) === DEFAULT_TENANCY_NAME;
  return !ns.DeletedAt;
}

/** DNS reads in one tenant (a DnsReader for answers.ts). */
export class TenantDnsView {
  readonly ent: EnterpriseMeta;
  readonly #replica: Replica;
  readonly #authz: () => Authorizer | undefined;
  readonly #readerOf: (ent: EnterpriseMeta) => Pick<TenantDnsView, 'instances'> | undefined;
  readonly #ctx: AuthorizerContext | undefined;
  /** The node rules' context: the partition (undefined for default, as the default tenant reads them). */
  readonly #nodeCtx: AuthorizerContext | undefined;
  readonly #services = new Map<string, Cached>();
  #byAddress: { table: CatalogTables; index: number; map: Map<string, Node> } | undefined;

  /** `readerOf`: the (cached) reader of another tenant of the partition, for its ingress gateways' instances. */
  constructor(replica: Replica, ent: EnterpriseMeta, authz: () => Authorizer | undefined, readerOf: (ent: EnterpriseMeta) => Pick<TenantDnsView, 'instances'> | undefined) {
    this.ent = { partition: foldTenancyName(ent.partition), namespace: foldTenancyName(ent.namespace) };
    this.#replica = replica;
    this.#authz = authz;
    this.#readerOf = readerOf;
    this.#ctx = entContext(this.ent);
    this.#nodeCtx = entContext(partitionEnt(this.ent.partition));
  }

  #cat(): CatalogTables {
    return catalogOf(this.#replica, this.ent);
  }

  #serviceReadable(authz: Authorizer | undefined, service: string): boolean {
    return !authz || authz.serviceRead(service, this.#ctx) === 'allow';
  }

  // Nodes are partition-level: their rules are the partition's (a default-partition token's
  // top-level node_prefix grants nothing in another partition).
  #nodeReadable(authz: Authorizer | undefined, node: string): boolean {
    return !authz || authz.nodeRead(node, this.#nodeCtx) === 'allow';
  }

  /** Instances of a service (or its mesh endpoints) in the tenant, filtered as DnsView.instances filters them. */
  instances(name: string, opts: { connect?: boolean; onlyPassing?: boolean; tag?: string } = {}): DnsInstance[] {
    const connect = opts.connect === true;
    const actual = this.#serviceName(name, connect);
    if (actual === undefined) return [];
    const own = this.#cached(actual, connect);
    // A service linked to terminating gateways of its namespace is reached through them too (as DnsView).
    const all = connect ? this.#withGateways(actual, own) : own;
    const tag = opts.tag?.toLowerCase();
    const authz = this.#authz();
    return all.filter((i) => i.status !== 'critical' && (!opts.onlyPassing || i.allPassing)
      && (!tag || (i.service.Tags ?? []).some((t) => t.toLowerCase() === tag))
      && this.#serviceReadable(authz, i.service.Service) && this.#nodeReadable(authz, i.node.Node));
  }

  /**
   * Instances of a service a cluster peer exports into this namespace (`<service>.service.<ns>.ns.<peer>.peer`,
   * the peering of this partition), filtered as DnsView.peerInstances filters the default namespace's.
   */
  peerInstances(peer: string, name: string, opts: { onlyPassing?: boolean; tag?: string } = {}): DnsInstance[] {
    const authz = this.#authz();
    return peerDnsInstances(peerImportsOf(this.#replica, this.ent).service(peer, name), opts,
      (svc, node) => this.#serviceReadable(authz, svc) && this.#nodeReadable(authz, node));
  }

  /** A node imported from a peer into this partition (`<node>.node.<peer>.peer.<ap>.ap`). */
  peerNode(peer: string, name: string): Node | undefined {
    const node = peerDnsNode(partitionPeerImports(this.#replica, this.ent.partition).map((t) => t.table), peer, name);
    return node && this.#nodeReadable(this.#authz(), node.Node) ? node : undefined;
  }

  /**
   * Instances of the ingress gateways of the partition whose listeners list the service in this
   * namespace (a listed service without Namespace is in its gateway's).
   */
  ingress(name: string, opts: { onlyPassing?: boolean } = {}): DnsInstance[] {
    if (!this.#serviceReadable(this.#authz(), name)) return [];
    const wanted = foldName(name);
    const out: DnsInstance[] = [];
    for (const { ent, table } of allConfigEntryTables(this.#replica)) {
      const gwEnt = ent ?? { partition: DEFAULT_TENANCY_NAME, namespace: DEFAULT_TENANCY_NAME };
      if (gwEnt.partition !== this.ent.partition || gwEnt.namespace === '*' || table.count(INGRESS) === 0) continue;
      for (const e of table.list(INGRESS)) {
        const listed = (e.Listeners as { Services?: { Name?: string; Namespace?: string }[] }[] | undefined ?? [])
          .some((l) => (l.Services ?? []).some((s) => foldTenancyName(s.Namespace || gwEnt.namespace) === this.ent.namespace
            && (foldName(String(s.Name ?? '')) === wanted || (s.Name === '*' && this.#typical(wanted)))));
        if (!listed) continue;
        const gw = this.#readerOf(gwEnt);
        if (gw) out.push(...gw.instances(String(e.Name), { onlyPassing: opts.onlyPassing }).filter((i) => i.service.Kind === INGRESS));
      }
    }
    return out;
  }

  #withGateways(key: string, own: DnsInstance[]): DnsInstance[] {
    const entries = configEntriesOf(this.#replica, this.ent);
    if (entries.count(TERMINATING) === 0) return own;
    const gateways = terminatingGatewaysFor(this.#cat(), entries, key);
    if (gateways.length === 0) return own;
    const out = [...own];
    for (const gw of gateways) for (const i of this.#cached(foldName(gw), false)) if (i.service.Kind === TERMINATING) out.push(i);
    return out;
  }

  #linkedToGateway(key: string): boolean {
    const entries = configEntriesOf(this.#replica, this.ent);
    return entries.count(TERMINATING) > 0 && terminatingGatewaysFor(this.#cat(), entries, key).length > 0;
  }

  #typical(key: string): boolean {
    return key !== 'consul' && this.#cat().instances(key).some((i) => !i.service.Kind);
  }

  /** True when the tenant's catalog knows the service name (and the DNS token may read it). */
  hasService(name: string, connect = false): boolean {
    return this.#serviceName(name, connect) !== undefined;
  }

  /** The service's cache key, as DnsView.serviceKey. */
  serviceKey(name: string, connect = false): string | undefined {
    const actual = this.#serviceName(name, connect);
    return actual === undefined || !connect ? actual : `connect:${actual}`;
  }

  /** The tenant's index of a service key (0 when unknown). */
  version(key: string): number {
    return this.#cat().serviceIndex.get(key) ?? 0;
  }

  /** A node of the tenant's partition, case-insensitively. */
  node(name: string): Node | undefined {
    const node = partitionCatalog(this.#replica, this.ent.partition).node(name);
    return node && this.#nodeReadable(this.#authz(), node.Node) ? node : undefined;
  }

  /**
   * A node of the tenant's partition whose address is `ip` (PTR on an agent of another partition;
   * the first the partition's table holds, as DnsView picks), its map rebuilt when the nodes change.
   */
  nodeByAddress(ip: string): Node | undefined {
    const cat = partitionCatalog(this.#replica, this.ent.partition);
    let c = this.#byAddress;
    if (!c || c.table !== cat || c.index !== cat.index.nodes) {
      const map = new Map<string, Node>();
      for (const n of cat.nodes.values()) if (!map.has(ipKey(n.Address))) map.set(ipKey(n.Address), n);
      this.#byAddress = c = { table: cat, index: cat.index.nodes, map };
    }
    const node = c.map.get(ipKey(ip));
    return node && this.#nodeReadable(this.#authz(), node.Node) ? node : undefined;
  }

  /** A service instance of the tenant's partition (any namespace) whose own address is `ip`, for PTR on an agent of that partition. */
  serviceByAddress(ip: string): NodeService | undefined {
    const authz = this.#authz();
    return partitionServiceByAddress(this.#replica, this.ent.partition, ip, (ent, svc) => !authz || authz.serviceRead(svc, entContext(ent)) === 'allow');
  }

  #serviceName(name: string, connect: boolean): string | undefined {
    const cat = this.#cat();
    const key = foldName(name);
    if (!(connect ? cat.byConnect : cat.byName).has(key) && !(connect && this.#linkedToGateway(key))) return undefined;
    const authz = this.#authz();
    if (!authz) return key;
    const spellings = connect ? [name] : cat.serviceTags(key).map(([n]) => n);
    return spellings.some((n) => this.#serviceReadable(authz, n)) ? key : undefined;
  }

  #cached(name: string, connect: boolean): DnsInstance[] {
    const cat = this.#cat();
    const key = connect ? `connect:${name}` : name;
    const index = cat.serviceIndex.get(key) ?? 0;
    const hit = this.#services.get(key);
    if (hit && hit.table === cat && hit.index === index && index !== 0) return hit.instances;
    const instances = cat.instances(name, connect).map(({ node, service }) => {
      const checks = cat.instanceChecks(node.Node, service.ID);
      const critical = checks.some((c) => c.Status === 'critical');
      const allPassing = checks.every((c) => c.Status === 'passing');
      return { node, service, status: critical ? 'critical' : allPassing ? 'passing' : 'warning', allPassing } as DnsInstance;
    });
    if (instances.length === 0) this.#services.delete(key);
    else this.#services.set(key, { table: cat, index, instances });
    return instances;
  }
}

/**
 * The DNS instances of a peer's imported service (`<service>.service.<peer>.peer`): critical ones
 * left out (warning too with `onlyPassing`), by tag, and those the DNS token may read.
 */
export function peerDnsInstances(
  rec: PeerImportRecord | undefined, opts: { onlyPassing?: boolean; tag?: string }, readable: (service: string, node: string) => boolean,
): DnsInstance[] {
  if (!rec) return [];
  const tag = opts.tag?.toLowerCase();
  const out: DnsInstance[] = [];
  for (const n of rec.Nodes) {
    const critical = n.Checks.some((c) => c.Status === 'critical');
    const allPassing = n.Checks.every((c) => c.Status === 'passing');
    if (critical || (opts.onlyPassing && !allPassing)) continue;
    if (tag && !(n.Service.Tags ?? []).some((t) => t.toLowerCase() === tag)) continue;
    if (!readable(n.Service.Service, n.Node.Node)) continue;
    out.push({ node: n.Node, service: n.Service, status: allPassing ? 'passing' : 'warning', allPassing });
  }
  return out;
}

/** The node named `name` among the instances a peer exports to these import tables (a partition's), the first found. */
export function peerDnsNode(tables: PeerImportsTable[], peer: string, name: string): Node | undefined {
  const wanted = foldName(name);
  for (const t of tables) {
    for (const rec of t.ofPeer(peer)) {
      const n = rec.Nodes.find((x) => foldName(x.Node.Node) === wanted);
      if (n) return n.Node;
    }
  }
  return undefined;
}

const addressMaps = new WeakMap<CatalogTables, { index: number; map: Map<string, NodeService> }>();

/** A table's services by their own address (the first registered keeps it), rebuilt when its services change. */
function servicesByAddress(cat: CatalogTables): Map<string, NodeService> {
  const hit = addressMaps.get(cat);
  if (hit && hit.index === cat.index.services) return hit.map;
  const map = new Map<string, NodeService>();
  for (const onNode of cat.services.values()) {
    for (const s of onNode.values()) if (s.Address && !map.has(ipKey(s.Address))) map.set(ipKey(s.Address), s);
  }
  addressMaps.set(cat, { index: cat.index.services, map });
  return map;
}

/**
 * The first service instance of a partition whose own address is `ip`, its default namespace first,
 * then the others, as Consul's PTR lookup reads every namespace of the agent's partition; a
 * namespaced one carries its Namespace (its PTR name has the namespace label). `readable` is the
 * DNS token's service:read in that tenant.
 */
export function partitionServiceByAddress(
  replica: Replica, partition: string, ip: string, readable: (ent: EnterpriseMeta, service: string) => boolean,
): NodeService | undefined {
  const key = ipKey(ip);
  const own = { partition: foldTenancyName(partition), namespace: DEFAULT_TENANCY_NAME };
  const found = servicesByAddress(partitionCatalog(replica, own.partition)).get(key);
  if (found && readable(own, found.Service)) return found;
  for (const { ent, table } of namespaceCatalogs(replica, own.partition)) {
    const s = servicesByAddress(table).get(key);
    if (s && dnsTenantExists(replica, ent) && readable(ent, s.Service)) return { ...s, Namespace: ent.namespace };
  }
  return undefined;
}
