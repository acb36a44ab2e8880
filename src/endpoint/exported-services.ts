// ConfigEntry.GetResolvedExportedServices: the services the `exported-services` entry exports
// and to which peers, with a `*` entry expanded to every typical service in the catalog and
// sameness-group consumers to their member peers; the `consul` service is never exported.
import { CONFIG_ENTRIES_TABLE, SERVICES_TABLE, type ConfigEntry, type WatchSet } from '../state/index.ts';
import type { ResolvedExportedService } from '../api/exported-services.ts';
import type { EndpointDeps } from './deps.ts';
import { authorize } from './acl-enforce.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';

const EXPORTED = 'exported-services';
const SAMENESS = 'sameness-group';
/** The exported-services entry of the (only) partition. */
const ENTRY_NAME = 'default';

type Consumer = { Peer?: string; SamenessGroup?: string };
type Export = { Name?: string; Consumers?: Consumer[] };

/** The resolved exports sorted by service name; needs mesh:read (which operator:read grants). */
export function resolvedExportedServices(deps: EndpointDeps, opts: QueryOptions): Promise<QueryResult<ResolvedExportedService[]>> {
  authorize(opts.authz, 'meshRead');
  return blockingQuery(deps, opts, (ws) => resolveExports(deps, ws));
}

/** The resolution itself at the replica's state, watching what it read in `ws`. */
export function resolveExports(deps: EndpointDeps, ws: WatchSet): { index: number; value: ResolvedExportedService[] } {
  const { configEntries, catalog } = deps.replica;
  ws.addKey(CONFIG_ENTRIES_TABLE, `${EXPORTED}/${ENTRY_NAME}`).addPrefix(CONFIG_ENTRIES_TABLE, `${SAMENESS}/`);
  let index = Math.max(configEntries.kindIndex(EXPORTED), configEntries.kindIndex(SAMENESS));
  const entry = configEntries.get(EXPORTED, ENTRY_NAME);
  const byService = new Map<string, Set<string>>();
  const add = (service: string, peers: string[]) => {
    if (service === 'consul') return;
    let set = byService.get(service);
    if (!set) byService.set(service, (set = new Set()));
    for (const p of peers) set.add(p);
  };
  for (const svc of (entry?.Services as Export[] | undefined) ?? []) {
    const peers = consumerPeers(svc.Consumers ?? [], (g) => configEntries.get(SAMENESS, g));
    if (svc.Name !== '*') {
      add(String(svc.Name ?? ''), peers);
      continue;
    }
    ws.addTable(SERVICES_TABLE);
    index = Math.max(index, catalog.index.services);
    for (const name of typicalServiceNames(catalog)) add(name, peers);
  }
  const value = [...byService].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([Service, set]): ResolvedExportedService => {
    const Peers = [...set].sort();
    return { Service, Consumers: Peers.length > 0 ? { Peers } : {} };
  });
  return { index, value };
}

/** The peers of a service's consumers: named peers and the peer members of named sameness groups. */
function consumerPeers(consumers: Consumer[], group: (name: string) => ConfigEntry | undefined): string[] {
  const out: string[] = [];
  for (const c of consumers) {
    if (c.Peer) out.push(c.Peer);
    if (c.SamenessGroup) {
      for (const m of (group(c.SamenessGroup)?.Members as { Peer?: string }[] | undefined) ?? []) if (m.Peer) out.push(m.Peer);
    }
  }
  return out;
}

/** Names (as stored) of the catalog's services of the typical kind, one per case-folded name. */
function typicalServiceNames(catalog: EndpointDeps['replica']['catalog']): string[] {
  const out: string[] = [];
  for (const refs of catalog.byName.values()) {
    for (const ref of refs) {
      const [node, id] = ref.split('\0');
      const svc = catalog.services.get(node)?.get(id);
      if (svc && !svc.Kind) {
        out.push(svc.Service);
        break;
      }
    }
  }
  return out;
}
