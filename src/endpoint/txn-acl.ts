// ACL checks of /v1/txn (Consul's Txn.preCheck ACL part and FilterTxnResults): each write op
// needs write on its key, node, service or session node; reads are filtered out of the results.
import { denialFor, type AuthorizerMethod } from '../acl/index.ts';
import type { Node, NodeService, HealthCheck } from '../api/catalog-types.ts';
import { allowed } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { EndpointDeps } from './deps.ts';
import type { TxnOpInput, TxnResultItem } from './txn.ts';

type Need = [AuthorizerMethod, string] | null;

function kvNeed(verb: string, key: string): Need {
  switch (verb) {
    case 'delete-tree':
      return ['keyWritePrefix', key];
    case 'get':
    case 'get-tree':
    case 'get-or-empty':
      return null; // filtered on the way out
    case 'check-session':
    case 'check-index':
    case 'check-not-exists':
      return ['keyRead', key];
    default:
      return ['keyWrite', key];
  }
}

function catalogNeed(op: TxnOpInput, deps: EndpointDeps): Need {
  if (op.Node) {
    const node = typeof op.Node.Node === 'string' ? op.Node.Node : (op.Node.Node?.Node ?? '');
    return op.Node.Verb === 'get' ? null : ['nodeWrite', node];
  }
  if (op.Service) return op.Service.Verb === 'get' ? null : ['serviceWrite', op.Service.Service?.Service ?? ''];
  if (op.Check) {
    if (op.Check.Verb === 'get') return null;
    const c = op.Check.Check ?? {};
    return c.ServiceID ? ['serviceWrite', c.ServiceName ?? ''] : ['nodeWrite', c.Node ?? ''];
  }
  if (op.Session) return ['sessionWrite', deps.replica.sessions.get(op.Session.Session?.ID ?? '')?.Node ?? ''];
  return null;
}

/** The permission-denied text for op `op`, or null when the caller may run it. */
export function txnOpDenied(deps: EndpointDeps, id: AclIdentity | undefined, op: TxnOpInput): string | null {
  if (!id) return null;
  const need = op.KV ? kvNeed(op.KV.Verb, op.KV.Key) : catalogNeed(op, deps);
  if (!need || allowed(id, need[0], need[1])) return null;
  return denialFor(id.accessorID, need[0], need[1]).message;
}

/** Drops results the caller may not read (KV by key, catalog records by node and service). */
export function filterTxnResults(id: AclIdentity | undefined, results: TxnResultItem[]): TxnResultItem[] {
  if (!id) return results;
  return results.filter((r) => {
    if (r.KV) return allowed(id, 'keyRead', r.KV.Key);
    if (r.Node) return allowed(id, 'nodeRead', (r.Node as Node).Node);
    if (r.Service) return allowed(id, 'serviceRead', (r.Service as NodeService).Service);
    if (r.Check) {
      const c = r.Check as HealthCheck;
      return allowed(id, 'nodeRead', c.Node) && (!c.ServiceName || allowed(id, 'serviceRead', c.ServiceName));
    }
    return true;
  });
}
