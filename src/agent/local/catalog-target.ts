// The catalog target of a server agent: anti-entropy writes through the in-process catalog
// endpoint and reads this node's entries from the replica; the node itself (with serfHealth
// and the `consul` service) is repaired by re-running the leader's self-registration.
import type { AclIdentity, CatalogEndpoint } from '../../endpoint/index.ts';
import { DEFAULT_TENANCY_NAME, namespaceCatalogs, type EnterpriseMeta, type Replica } from '../../state/index.ts';
import type { RegisterRequest } from '../../api/catalog-types.ts';
import { localKey } from './state.ts';
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
    // The node named case-insensitively, as nodeChecks and a client agent's catalog/node read find it;
    // the node's services in other namespaces join under their local keys, with their Namespace.
    nodeServices: (node) => {
      const found = cat.node(node);
      if (!found) return undefined;
      const out = new Map(cat.services.get(found.Node) ?? []);
      for (const { ent, table } of namespaceCatalogs(replica, DEFAULT_TENANCY_NAME)) {
        for (const s of table.services.get(found.Node)?.values() ?? []) out.set(localKey(s.ID, ent.namespace), { ...s, Namespace: ent.namespace });
      }
      return out;
    },
    nodeChecks: (node) => {
      const checks = cat.nodeChecks(node);
      for (const { ent, table } of namespaceCatalogs(replica, DEFAULT_TENANCY_NAME)) {
        for (const c of table.nodeChecks(node)) checks.push({ ...c, Namespace: ent.namespace });
      }
      return checks;
    },
    register: async (req, token) => catalog.register(req, resolve(token), registerNamespace(req)),
    deregister: async (req, token) => catalog.deregister(req, resolve(token), req.Namespace ? inNamespace(req.Namespace) : undefined),
    syncNode: () => registerSelf(catalog, config),
  };
}

/** The namespace anti-entropy registers in: its service's, else its checks' (absent: default). */
function registerNamespace(req: RegisterRequest): EnterpriseMeta | undefined {
  const ns = req.Service?.Namespace || req.Check?.Namespace || req.Checks?.find((c) => c.Namespace)?.Namespace;
  return ns ? inNamespace(ns) : undefined;
}

function inNamespace(namespace: string): EnterpriseMeta {
  return { partition: DEFAULT_TENANCY_NAME, namespace };
}

/** The checks of any node in the replica, for alias checks that name a node. */
export function replicaNodeChecks(replica: Replica): (node: string) => AliasCheckInfo[] {
  return (node) => {
    if (!replica.catalog.node(node)) throw new Error(`Node ${JSON.stringify(node)} not found`);
    return replica.catalog.nodeChecks(node);
  };
}
