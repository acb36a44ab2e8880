// The catalog target of a server agent: anti-entropy writes through the in-process catalog
// endpoint and reads this node's entries from the replica; the node itself (with serfHealth
// and the `consul` service) is repaired by re-running the leader's self-registration.
import type { AclIdentity, CatalogEndpoint } from '../../endpoint/index.ts';
import type { Replica } from '../../state/index.ts';
import { registerSelf } from '../../leader/self-register.ts';
import type { AliasCheckInfo } from '../checks/index.ts';
import type { RuntimeConfig } from '../config/runtime.ts';
import type { CatalogTarget } from './anti-entropy.ts';

/**
 * An in-process CatalogTarget over a server's catalog endpoint and replica; writes are checked
 * against the identity `resolve` gives the sync token, as a client agent's RPC would be.
 */
export function serverCatalogTarget(
  catalog: CatalogEndpoint, replica: Replica, config: RuntimeConfig, resolve: (secret: string) => AclIdentity,
): CatalogTarget {
  const cat = replica.catalog;
  return {
    // The node named case-insensitively, as nodeChecks and a client agent's catalog/node read find it.
    nodeServices: (node) => {
      const found = cat.node(node);
      return found ? new Map(cat.services.get(found.Node) ?? []) : undefined;
    },
    nodeChecks: (node) => cat.nodeChecks(node),
    register: async (req, token) => catalog.register(req, resolve(token)),
    deregister: async (req, token) => catalog.deregister(req, resolve(token)),
    syncNode: () => registerSelf(catalog, config),
  };
}

/** The checks of any node in the replica, for alias checks that name a node. */
export function replicaNodeChecks(replica: Replica): (node: string) => AliasCheckInfo[] {
  return (node) => {
    if (!replica.catalog.node(node)) throw new Error(`Node ${JSON.stringify(node)} not found`);
    return replica.catalog.nodeChecks(node);
  };
}
