// The service summaries the web UI lists (Consul's summarizeServices and prepSummaryOutput in
// agent/ui_endpoint.go): instances, nodes, tags, external sources and check counts per service,
// with a sidecar's checks counted for the service it fronts and gateway addresses when asked.
import type { HealthCheck, Node, NodeService } from '../api/catalog-types.ts';
import type { GatewayService } from '../api/config-entries.ts';

/** Consul's ServiceSummary as JSON (CE: no namespace or partition fields). */
export interface ServiceSummary {
  Kind?: string;
  Name: string;
  Datacenter: string;
  Tags: string[] | null;
  Nodes: string[] | null;
  ExternalSources: string[] | null;
  InstanceCount: number;
  ChecksPassing: number;
  ChecksWarning: number;
  ChecksCritical: number;
  GatewayConfig: { AssociatedServiceCount?: number; Addresses?: string[] };
  TransparentProxy: boolean;
  ConnectNative: boolean;
  PeerName?: string;
}

/** One row of a service dump: an instance with its node and checks, and/or a gateway link. */
export interface DumpRow {
  node?: Node;
  service?: NodeService;
  checks: HealthCheck[];
  gateway?: GatewayService;
  /** The cluster peer the instance was imported from ('' or absent: local). */
  peer?: string;
}

/** How summaries are keyed: by peer and service name (Consul's PeeredServiceName). */
export function summaryKey(peer: string, name: string): string {
  return `${peer}\0${name}`;
}

/** Settings for gateway addresses (modifySummaryForGatewayService); absent: none computed. */
export interface GatewayAddressing {
  datacenter: string;
  domain: string;
  altDomain: string;
}

interface Acc {
  sum: ServiceSummary;
  checks: Map<string, HealthCheck>;
  sources: Set<string>;
  addresses: Set<string>;
  /** What Nodes and Tags hold, for membership without scanning them per instance. */
  nodes: Set<string>;
  tags: Set<string>;
  tproxySet: boolean;
}

/** Consul's summarizeServices: summaries by summaryKey(peer, name), and the keys of those that have a proxy. */
export function summarizeServices(rows: DumpRow[], gw?: GatewayAddressing): { summaries: Map<string, Acc>; hasProxy: Set<string> } {
  const summaries = new Map<string, Acc>();
  const hasProxy = new Set<string>();
  const get = (name: string, peer = ''): Acc => {
    const key = summaryKey(peer, name);
    let a = summaries.get(key);
    if (!a) {
      a = {
        sum: {
          Name: name, Datacenter: '', Tags: null, Nodes: null, ExternalSources: null, InstanceCount: 0, ChecksPassing: 0,
          ChecksWarning: 0, ChecksCritical: 0, GatewayConfig: {}, TransparentProxy: false, ConnectNative: false,
        },
        checks: new Map(), sources: new Set(), addresses: new Set(), nodes: new Set(), tags: new Set(), tproxySet: false,
      };
      if (peer) a.sum.PeerName = peer;
      summaries.set(key, a);
    }
    return a;
  };
  for (const row of rows) {
    if (gw && row.gateway) addGatewayAddresses(get(row.gateway.Service.Name), row.gateway, gw);
    const svc = row.service;
    const node = row.node;
    if (!svc || !node) continue;
    const peer = row.peer ?? '';
    const a = get(svc.Service, peer);
    const s = a.sum;
    if (!a.nodes.has(node.Node)) {
      a.nodes.add(node.Node);
      (s.Nodes ??= []).push(node.Node);
    }
    if (svc.Kind) s.Kind = svc.Kind;
    else delete s.Kind;
    s.Datacenter = node.Datacenter;
    s.InstanceCount++;
    if ((svc as { Connect?: { Native?: boolean } }).Connect?.Native) s.ConnectNative = true;
    if (svc.Kind === 'connect-proxy') proxyInto((n) => get(n, peer), (n) => hasProxy.add(summaryKey(peer, n)), node, svc, row.checks);
    for (const tag of svc.Tags ?? []) {
      if (a.tags.has(tag)) continue;
      a.tags.add(tag);
      (s.Tags ??= []).push(tag);
    }
    const source = svc.Meta?.['external-source'];
    if (source && !a.sources.has(source)) {
      a.sources.add(source);
      (s.ExternalSources ??= []).push(source);
    }
    for (const c of row.checks) a.checks.set(`${node.Node}/${c.CheckID}`, c);
  }
  return { summaries, hasProxy };
}

/** A sidecar: its checks count for the service it fronts, which is transparent only when all its proxies are. */
function proxyInto(get: (name: string) => Acc, proxied: (name: string) => void, node: Node, svc: NodeService, checks: HealthCheck[]): void {
  const proxy = (svc as { Proxy?: { DestinationServiceName?: string; Mode?: string } }).Proxy;
  const dest = proxy?.DestinationServiceName ?? '';
  proxied(dest);
  const d = get(dest);
  for (const c of checks) d.checks.set(`${node.Node}/${c.CheckID}`, c);
  const transparent = proxy?.Mode === 'transparent';
  if (transparent && !d.tproxySet) d.sum.TransparentProxy = true;
  if (!transparent) d.sum.TransparentProxy = false;
  d.tproxySet = true;
}

/** GatewayService.Addresses with the default `<service>.ingress.<dc>.<domain>` hosts, each once. */
function addGatewayAddresses(a: Acc, gs: GatewayService, gw: GatewayAddressing): void {
  const port = gs.Port ?? 0;
  if (port === 0) return;
  const defaults = [gw.domain, gw.altDomain].filter((d) => d !== '').map((d) => `${gs.Service.Name}.ingress.${gw.datacenter}.${d}`);
  const hosts = gs.Hosts?.length ? gs.Hosts : defaults;
  for (const h of hosts) {
    const addr = `${h.replace(/\.+$/, '')}:${port}`;
    if (a.addresses.has(addr)) continue;
    a.addresses.add(addr);
    (a.sum.GatewayConfig.Addresses ??= []).push(addr);
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Consul's prepSummaryOutput: sorted nodes and tags, check counts; sidecars and gateways but ingress left out when asked. */
export function prepSummaryOutput(summaries: Map<string, Acc>, excludeSidecars: boolean): ServiceSummary[] {
  const out: ServiceSummary[] = [];
  for (const a of summaries.values()) {
    const s = a.sum;
    s.Nodes?.sort(cmp);
    s.Tags?.sort(cmp);
    for (const c of a.checks.values()) {
      if (c.Status === 'passing') s.ChecksPassing++;
      else if (c.Status === 'warning') s.ChecksWarning++;
      else if (c.Status === 'critical') s.ChecksCritical++;
    }
    if (excludeSidecars && s.Kind && s.Kind !== 'ingress-gateway') continue;
    // Kind leads, as in Consul's struct.
    out.push(s.Kind ? { Kind: s.Kind, ...s } : s);
  }
  // By name (Consul's CE order); a local service before a peer's of the same name.
  return out.sort((x, y) => cmp(x.Name, y.Name) || cmp(x.PeerName ?? '', y.PeerName ?? ''));
}

/** A summary with nothing but a name and datacenter (exported services, routing-config upstreams). */
export function bareSummary(name: string, datacenter: string): ServiceSummary {
  return {
    Name: name, Datacenter: datacenter, Tags: null, Nodes: null, ExternalSources: null, InstanceCount: 0, ChecksPassing: 0,
    ChecksWarning: 0, ChecksCritical: 0, GatewayConfig: {}, TransparentProxy: false, ConnectNative: false,
  };
}
