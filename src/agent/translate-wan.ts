// translate_wan_addrs at the agent that was asked, as Consul's agent applies it: HTTP answers read
// from another datacenter (catalog nodes, node, node-services, service, connect; health service,
// connect, ingress; prepared query execute) show WAN node and service addresses and ports, and
// every HTTP response says `X-Consul-Translate-Addresses: true`; DNS questions for another
// datacenter are sent there with settings asking for WAN addresses. Local results are untouched.
import type { DnsConfig } from '../dns/index.ts';
import { encodeDnsConfig } from '../dns/config-wire.ts';
import type { Handler, HttpResult, Router } from '../http/index.ts';
import type { CheckServiceNode, Node, NodeService, ServiceNode } from '../api/catalog-types.ts';
import { translateCheckServiceNode, translateNode, translateService, translateServiceNode } from '../endpoint/translate-addr.ts';
import type { ClientDnsSettings } from './dc-dns.ts';

/** The header Consul sets on every HTTP response while translation is on. */
export const TRANSLATE_HEADER = 'X-Consul-Translate-Addresses';

/** The response headers translation adds (none while it is off). */
export function translateHeaders(enabled: boolean): Record<string, string> {
  return enabled ? { [TRANSLATE_HEADER]: 'true' } : {};
}

/** The shapes of the answers that carry addresses. */
type Shape = 'nodes' | 'nodeServices' | 'nodeServiceList' | 'serviceNodes' | 'checkServiceNodes' | 'query';

const SHAPES: [RegExp, Shape][] = [
  [/^\/v1\/catalog\/nodes$/, 'nodes'],
  [/^\/v1\/catalog\/node\/[^/]+$/, 'nodeServices'],
  [/^\/v1\/catalog\/node-services\/[^/]+$/, 'nodeServiceList'],
  [/^\/v1\/catalog\/(service|connect)\/[^/]+$/, 'serviceNodes'],
  [/^\/v1\/health\/(service|connect|ingress)\/[^/]+$/, 'checkServiceNodes'],
  [/^\/v1\/query\/[^/]+\/execute$/, 'query'],
];

/** The shape of a GET answer whose addresses are translated, or undefined. */
export function translatedShape(method: string, path: string): Shape | undefined {
  if (method !== 'GET') return undefined;
  return SHAPES.find(([re]) => re.test(path))?.[1];
}

type NodeServices = { Node: Node | null; Services: Record<string, NodeService> | NodeService[] | null };

/**
 * A JSON answer of `shape` read from datacenter `dc`, as an agent of `own` sees it: translated
 * when the datacenters differ (a prepared query names the one it ran in), else returned as is.
 */
export function translateBody(shape: Shape, body: unknown, dc: string, own: string): unknown {
  if (body === null || typeof body !== 'object') return body;
  if (shape === 'query') {
    const r = body as { Datacenter?: string; Nodes?: CheckServiceNode[] | null };
    if (!r.Datacenter || r.Datacenter === own || !Array.isArray(r.Nodes)) return body;
    return { ...r, Nodes: r.Nodes.map((e) => translateCheckServiceNode(e)) };
  }
  if (!dc || dc === own) return body;
  switch (shape) {
    case 'nodes': return Array.isArray(body) ? (body as Node[]).map((n) => translateNode(n)) : body;
    case 'serviceNodes': return Array.isArray(body) ? (body as ServiceNode[]).map((e) => translateServiceNode(e)) : body;
    case 'checkServiceNodes': return Array.isArray(body) ? (body as CheckServiceNode[]).map((e) => translateCheckServiceNode(e)) : body;
    case 'nodeServices':
    case 'nodeServiceList': {
      const r = body as NodeServices;
      const services = Array.isArray(r.Services)
        ? r.Services.map((s) => translateService(s))
        : r.Services && Object.fromEntries(Object.entries(r.Services).map(([k, s]) => [k, translateService(s)]));
      return { ...r, Node: r.Node && translateNode(r.Node), Services: services };
    }
  }
}

// The JSON of a successful answer, in-process (body) or relayed from a server (raw); undefined otherwise.
function jsonOf(res: HttpResult): unknown {
  if ((res.status ?? 200) !== 200 || res.stream) return undefined;
  if (res.raw === undefined) return res.body;
  try {
    return JSON.parse(res.raw.toString());
  } catch {
    return undefined;
  }
}

/** What the router wrapper needs. */
export interface TranslateWanDeps {
  /** This agent's datacenter. */
  datacenter: string;
  /** translate_wan_addrs. */
  enabled: boolean;
}

/** Wraps the HTTP route table: answers from another datacenter show WAN addresses while translation is on. */
export function translatingRouter(router: Pick<Router, 'match' | 'list'>, d: TranslateWanDeps): Pick<Router, 'match' | 'list'> {
  if (!d.enabled) return router;
  return {
    list: () => router.list(),
    match(method, path) {
      const m = router.match(method, path);
      const shape = m ? translatedShape(method, path) : undefined;
      if (!m || !shape) return m;
      const handler: Handler = async (req) => {
        const dc = req.query.get('dc') ?? '';
        // Only a prepared query can come back from elsewhere unasked; skip parsing local answers.
        if (shape !== 'query' && (!dc || dc === d.datacenter)) return m.handler(req);
        const res = await m.handler(req);
        const json = jsonOf(res);
        if (json === undefined) return res;
        const out = translateBody(shape, json, dc, d.datacenter);
        if (out === json) return res;
        const { raw: _raw, ...rest } = res;
        return { ...rest, body: out };
      };
      return { ...m, handler };
    },
  };
}

/**
 * The settings an agent's DNS questions for another datacenter travel with while it translates
 * (its own, asking for WAN addresses), for datacenterDnsHandler; undefined while it does not.
 */
export function wanDnsSettings(cfg: DnsConfig): ClientDnsSettings | undefined {
  if (!cfg.translateWanAddrs) return undefined;
  return { domain: cfg.domain, altDomain: cfg.altDomain, settings: encodeDnsConfig({ ...cfg, wanAddresses: true }) };
}
