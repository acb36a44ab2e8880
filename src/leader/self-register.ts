// Leader duty at start-up (Consul's reconcile of the server's own member): the agent's node in
// the catalog with a passing serfHealth check and, on servers, the `consul` service, so
// clients waiting for the node can start at once.
import type { RuntimeConfig } from '../agent/config/runtime.ts';
import type { CatalogEndpoint } from '../endpoint/index.ts';
import { CONSUL_API_VERSION } from '../version.ts';
import type { RegisterRequest } from '../api/catalog-types.ts';

/** Consul's serfHealth check id. */
export const SERF_CHECK_ID = 'serfHealth';

/** This agent's node as anti-entropy registers it (Consul's syncNodeInfo): ID, address, tagged addresses, meta, locality. */
export function nodeRegistration(c: RuntimeConfig): RegisterRequest & { TaggedAddresses: Record<string, string>; NodeMeta: Record<string, string> } {
  const addr = c.advertiseAddr;
  const wan = c.advertiseAddrWan || addr;
  return {
    ID: c.nodeId,
    Node: c.nodeName,
    Address: addr,
    Datacenter: c.datacenter,
    TaggedAddresses: c.taggedAddresses ?? { lan: addr, lan_ipv4: addr, wan, wan_ipv4: wan },
    NodeMeta: { 'consul-network-segment': '', 'consul-version': CONSUL_API_VERSION, ...c.nodeMeta },
    ...(c.locality ? { Locality: c.locality } : {}),
  };
}

/** Registers (or refreshes) this agent's node, serfHealth and, for servers, the consul service. */
export async function registerSelf(catalog: CatalogEndpoint, c: RuntimeConfig): Promise<void> {
  await catalog.register({
    ...nodeRegistration(c),
    ...(c.server ? {
      Service: {
        ID: 'consul', Service: 'consul', Port: c.ports.server, Tags: [], Address: '',
        Meta: { raft_version: '3', serf_protocol_current: '2', serf_protocol_max: '5', serf_protocol_min: '1', version: CONSUL_API_VERSION },
        Weights: { Passing: 1, Warning: 1 },
      },
    } : {}),
    Check: {
      CheckID: SERF_CHECK_ID, Name: 'Serf Health Status', Status: 'passing', Output: 'Agent alive and reachable',
    },
  });
}
