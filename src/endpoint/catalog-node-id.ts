// Node ID and node name conflicts of a node write (Consul's ensureNodeTxn and
// ensureNoNodeWithSimilarNameTxn): a node ID held by another name renames that node, unless the
// new name (compared case-insensitively) belongs to a live node with another ID.
import { foldName, type CatalogTables } from '../state/index.ts';
import type { Node } from '../api/catalog-types.ts';

/** The check the leader keeps for every gossip member (Consul's structs.SerfCheckID). */
const SERF_CHECK_ID = 'serfHealth';

/** What a node write reads: nodes by name (case-insensitively) and by ID, and a node's serfHealth status. */
export interface NodeLookup {
  node(name: string): Node | undefined;
  nodeById(id: string): Node | undefined;
  checkStatus(node: string, checkId: string): string | undefined;
}

/** The outcome of the ID checks: Consul's error text, or the node the write renames (to be deleted first). */
export type NodeIdCheck = { error: string; renames?: undefined } | { error?: undefined; renames?: Node };

/**
 * Consul's ensureNoNodeWithSimilarNameTxn: the error when a node named like `node` (any case)
 * with another ID is alive by its serfHealth check. A node without serfHealth (registered
 * outside gossip) or with it critical gives its name up, and so does one without an ID when
 * `allowClashWithoutId`.
 */
function similarNameError(look: NodeLookup, node: Pick<Node, 'ID' | 'Node'>, allowClashWithoutId: boolean): string | null {
  const other = look.node(node.Node);
  if (!other || other.ID === node.ID) return null;
  const serf = look.checkStatus(other.Node, SERF_CHECK_ID);
  const healthy = serf !== undefined && serf !== 'critical';
  if (!healthy || (other.ID === '' && allowClashWithoutId)) return null;
  return `Node name ${node.Node} is reserved by node ${other.ID} with name ${other.Node} (${other.Address})`;
}

/** Consul's ID checks of ensureNodeTxn for a node carrying an ID (a node without one is never checked). */
export function checkNodeId(look: NodeLookup, node: Pick<Node, 'ID' | 'Node' | 'Address'>): NodeIdCheck {
  if (!node.ID) return {};
  const holder = look.nodeById(node.ID);
  if (holder) {
    if (foldName(holder.Node) === foldName(node.Node)) return {};
    const taken = similarNameError(look, node, false);
    if (taken) return { error: `Error while renaming Node ID: ${JSON.stringify(node.ID)} (${node.Address}): ${taken}` };
    return { renames: holder };
  }
  // A new ID may take over the name of a node registered without one (an upgrade adding IDs).
  const taken = similarNameError(look, node, true);
  return taken ? { error: `Error while renaming Node ID: ${JSON.stringify(node.ID)}: ${taken}` } : {};
}

/** A NodeLookup over the replica's catalog maps (no scans). */
export function replicaNodes(cat: CatalogTables): NodeLookup {
  return {
    node: (name) => cat.node(name),
    nodeById: (id) => cat.nodeById(id),
    checkStatus: (node, checkId) => cat.checks.get(node)?.get(checkId)?.Status,
  };
}
