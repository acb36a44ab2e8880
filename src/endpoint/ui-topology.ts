// A service's place in the mesh as the UI draws it (Consul's state.ServiceTopology and
// UIServiceTopology): upstreams from its proxies' registrations (an ingress gateway's from its
// links) and, for transparent proxies, from what intentions allow; downstreams likewise, with the
// intention decision for each pair. Routing-config upstreams (discovery chain targets) are not
// derived yet.
import { CHECKS_TABLE, CONFIG_ENTRIES_TABLE, NODES_TABLE, SERVICES_TABLE, type Replica, type WatchSet } from '../state/index.ts';
import type { NodeService } from '../api/catalog-types.ts';
import { intentionDecision, matchIntentions, type IntentionsEntry } from '../connect/intentions.ts';
import type { QueryRun } from './query.ts';
import { filterAllowed } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { instanceReadable } from './catalog-acl.ts';
import { defaultAllow } from './intentions.ts';
import { gatewayLinks } from './gateway-services.ts';
import { prepSummaryOutput, summarizeServices, type DumpRow, type ServiceSummary } from './ui-summary.ts';
import { BadRequestError } from '../errors.ts';

/** Consul's IntentionDecisionSummary. */
export interface IntentionDecisionSummary {
  DefaultAllow: boolean;
  Allowed: boolean;
  HasPermissions: boolean;
  ExternalSource: string;
  HasExact: boolean;
}

/** An upstream or downstream: its summary, why it is one, and the intention decision between the two. */
export type ServiceTopologySummary = ServiceSummary & { Source: string; Intention: IntentionDecisionSummary };

/** Consul's ServiceTopology. */
export interface ServiceTopology {
  Protocol: string;
  TransparentProxy: boolean;
  Upstreams: ServiceTopologySummary[];
  Downstreams: ServiceTopologySummary[];
  FilteredByACLs: boolean;
}

type Proxy = { DestinationServiceName?: string; Mode?: string; Upstreams?: { DestinationName?: string; DestinationType?: string }[] };
const proxyOf = (s: NodeService): Proxy => (s.Proxy ?? {}) as Proxy;
const INTENTIONS = 'service-intentions';

/** The service's protocol for metrics: service-defaults, then proxy-defaults, else tcp. */
function protocolOf(replica: Replica, ws: WatchSet, service: string): string {
  ws.addKey(CONFIG_ENTRIES_TABLE, `service-defaults/${service}`).addKey(CONFIG_ENTRIES_TABLE, 'proxy-defaults/global');
  const sd = replica.configEntries.get('service-defaults', service)?.Protocol;
  const pd = (replica.configEntries.get('proxy-defaults', 'global')?.Config as Record<string, unknown> | undefined)?.protocol;
  return typeof sd === 'string' && sd ? sd : typeof pd === 'string' && pd ? pd : 'tcp';
}

/** The Source of an intention-derived link: which intention (or the default) allowed it. */
function intentionSource(d: ReturnType<typeof intentionDecision>): string {
  if (!d.intention) return 'default-allow';
  return d.intention.SourceName === '*' || d.intention.DestinationName === '*' ? 'wildcard-intention' : 'specific-intention';
}

/** The computation under a blocking query; `kind` is the service kind the UI asks about. */
export function serviceTopology(replica: Replica, ws: WatchSet, service: string, kind: string, id: AclIdentity | undefined): QueryRun<ServiceTopology> {
  if (kind !== '' && kind !== 'ingress-gateway') throw new BadRequestError(`Unsupported service kind ${JSON.stringify(kind)}`);
  const cat = replica.catalog;
  ws.addTable(NODES_TABLE).addTable(SERVICES_TABLE).addTable(CHECKS_TABLE).addPrefix(CONFIG_ENTRIES_TABLE, `${INTENTIONS}/`);
  const entries = replica.configEntries.list(INTENTIONS) as unknown as IntentionsEntry[];
  const dflt = defaultAllow(id);
  const decide = (src: string, dst: string): IntentionDecisionSummary => {
    const bySource = matchIntentions(entries, 'source', src);
    const d = intentionDecision(bySource, dst, dflt, true);
    return {
      DefaultAllow: dflt, Allowed: d.allowed, HasPermissions: d.hasPermissions,
      ExternalSource: d.intention?.Meta?.['external-source'] ?? '', HasExact: bySource.some((i) => i.SourceName === src && i.DestinationName === dst),
    };
  };
  const proxies = (name: string): NodeService[] => cat.instances(name, true).map((i) => i.service).filter((s) => s.Kind === 'connect-proxy');
  const transparent = (name: string): boolean => {
    const p = proxies(name);
    return p.length > 0 && p.every((s) => proxyOf(s).Mode === 'transparent');
  };
  const meshServices = [...new Set([...cat.byConnect.keys()].flatMap((k) => proxies(k).map((s) => proxyOf(s).DestinationServiceName ?? '')))]
    .filter((n) => n !== '' && n !== service);
  const tproxy = transparent(service);

  const up = new Map<string, string>();
  let index = Math.max(cat.maxIndex, replica.configEntries.kindIndex(INTENTIONS));
  if (kind === 'ingress-gateway') {
    const links = gatewayLinks(replica, ws, service);
    index = Math.max(index, links.index);
    for (const gs of links.rows) up.set(gs.Service.Name, 'registration');
  } else {
    for (const p of proxies(service)) {
      for (const u of proxyOf(p).Upstreams ?? []) if (u.DestinationName && u.DestinationType !== 'prepared_query') up.set(u.DestinationName, 'registration');
    }
    if (tproxy) {
      for (const other of meshServices) {
        const d = intentionDecision(matchIntentions(entries, 'source', service), other, dflt, true);
        if (d.allowed && !up.has(other)) up.set(other, intentionSource(d));
      }
    }
  }
  const down = new Map<string, string>();
  // Ingress gateways linking the service are its downstreams, as their links enter Consul's mesh topology.
  ws.addPrefix(CONFIG_ENTRIES_TABLE, 'ingress-gateway/');
  index = Math.max(index, replica.configEntries.kindIndex('ingress-gateway'));
  for (const gw of replica.configEntries.list('ingress-gateway')) {
    const links = gatewayLinks(replica, ws, gw.Name);
    if (links.rows.some((r) => r.Service.Name === service)) down.set(gw.Name, 'registration');
  }
  for (const name of meshServices) {
    const registered = proxies(name).some((p) => (proxyOf(p).Upstreams ?? []).some((u) => u.DestinationName === service && u.DestinationType !== 'prepared_query'));
    if (registered) down.set(name, 'registration');
    else if (transparent(name)) {
      const d = intentionDecision(matchIntentions(entries, 'source', name), service, dflt, true);
      if (d.allowed) down.set(name, intentionSource(d));
    }
  }
  let filteredByAcls = false;
  const summaries = (names: Map<string, string>, pair: (other: string) => IntentionDecisionSummary): ServiceTopologySummary[] => {
    const rows: DumpRow[] = [];
    for (const name of names.keys()) {
      for (const i of [...cat.instances(name), ...cat.instances(name, true).filter((x) => x.service.Kind === 'connect-proxy')]) {
        rows.push({ node: i.node, service: i.service, checks: cat.instanceChecks(i.node.Node, i.service.ID) });
      }
    }
    const { items, filtered } = filterAllowed(id, rows, (r) => instanceReadable(id, r.node!.Node, r.service!.Service));
    filteredByAcls ||= filtered;
    return prepSummaryOutput(summarizeServices(items).summaries, true)
      .map((s) => ({ ...s, Source: names.get(s.Name) ?? '', Intention: pair(s.Name) }));
  };
  const value: ServiceTopology = {
    Protocol: protocolOf(replica, ws, service), TransparentProxy: tproxy,
    Upstreams: summaries(up, (u) => decide(service, u)), Downstreams: summaries(down, (d) => decide(d, service)), FilteredByACLs: false,
  };
  value.FilteredByACLs = filteredByAcls;
  return { index, value };
}
