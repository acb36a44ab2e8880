// The catalog as DNS sees it: instances of a service with their aggregated health, cached per
// service name and rebuilt only when that service's index moves (its instances, their checks
// or their nodes changed), plus case-insensitive node and address lookups for node and PTR
// queries. No DNS query scans the whole catalog.
import type { Replica } from '../state/index.ts';
import type { Node, NodeService } from '../api/catalog-types.ts';

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

/** Read views for the DNS transport over the replica's catalog tables. */
export class DnsView {
  readonly #replica: Replica;
  readonly #services = new Map<string, Cached>();
  readonly #derived = new Map<string, { index: number; value: unknown }>();

  constructor(replica: Replica) {
    this.#replica = replica;
  }

  /** Instances of a service (or its mesh endpoints), critical ones excluded, warning too when `onlyPassing`. */
  instances(name: string, opts: { connect?: boolean; onlyPassing?: boolean; tag?: string } = {}): DnsInstance[] {
    const actual = this.#serviceName(name, opts.connect === true);
    if (actual === undefined) return [];
    const all = this.#cached(actual, opts.connect === true);
    const tag = opts.tag?.toLowerCase();
    return all.filter((i) => i.status !== 'critical' && (!opts.onlyPassing || i.allPassing)
      && (!tag || (i.service.Tags ?? []).some((t) => t.toLowerCase() === tag)));
  }

  /** True when the catalog knows the service name (for NODATA vs NXDOMAIN decisions). */
  hasService(name: string, connect = false): boolean {
    return this.#serviceName(name, connect) !== undefined;
  }

  /**
   * The cache key of a service's instances (`name` or `connect:name`, resolved case-insensitively),
   * undefined when unknown; with `version` it stamps anything derived from `instances()`.
   */
  serviceKey(name: string, connect = false): string | undefined {
    const actual = this.#serviceName(name, connect);
    return actual === undefined || !connect ? actual : `connect:${actual}`;
  }

  /** The index of a service key: it moves whenever that service's instances, checks or nodes change (0 when unknown). */
  version(key: string): number {
    return this.#replica.catalog.serviceIndex.get(key) ?? 0;
  }

  #serviceName(name: string, connect: boolean): string | undefined {
    const cat = this.#replica.catalog;
    const table = connect ? cat.byConnect : cat.byName;
    if (table.has(name)) return name;
    if (connect) return [...table.keys()].find((k) => k.toLowerCase() === name);
    return this.#names().get(name.toLowerCase());
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

  /** A node by name, case-insensitively. */
  node(name: string): Node | undefined {
    return this.#replica.catalog.nodes.get(name) ?? this.#nodes().map.get(name.toLowerCase());
  }

  /** The node whose address is `ip` (for PTR). */
  nodeByAddress(ip: string): Node | undefined {
    return this.#nodes().byAddr.get(ip);
  }

  /** A service instance whose own address is `ip` (for PTR when no node matches). */
  serviceByAddress(ip: string): NodeService | undefined {
    return this.#serviceAddrs().get(ip);
  }

  #nodes(): { map: Map<string, Node>; byAddr: Map<string, Node> } {
    return this.#lazy('nodes', this.#replica.catalog.index.nodes, () => {
      const map = new Map<string, Node>();
      const byAddr = new Map<string, Node>();
      for (const n of this.#replica.catalog.nodes.values()) {
        map.set(n.Node.toLowerCase(), n);
        if (!byAddr.has(n.Address)) byAddr.set(n.Address, n);
      }
      return { map, byAddr };
    });
  }

  #names(): Map<string, string> {
    return this.#lazy('names', this.#replica.catalog.index.services, () => {
      const names = new Map<string, string>();
      for (const n of this.#replica.catalog.byName.keys()) names.set(n.toLowerCase(), n);
      return names;
    });
  }

  #serviceAddrs(): Map<string, NodeService> {
    return this.#lazy('addrs', this.#replica.catalog.index.services, () => {
      const byAddr = new Map<string, NodeService>();
      for (const onNode of this.#replica.catalog.services.values()) {
        for (const s of onNode.values()) if (s.Address && !byAddr.has(s.Address)) byAddr.set(s.Address, s);
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
