// ACL checks of /v1/txn (Consul's Txn.preCheck ACL part and FilterTxnResults): each write op
// needs write on its key, node, service or session node; reads are filtered out of the results.
import { denialFor, type AuthorizerMethod, type AuthorizerContext } from '../acl/index.ts';
import { catalogOf, partitionCatalog } from '../state/catalog-tenants.ts';
import type { Node, NodeService, HealthCheck } from '../api/catalog-types.ts';
import { allowed, entContext, unrestricted } from './acl-enforce.ts';
import { partitionEnt, sessionInTenant, type EnterpriseMeta, type KVEntry } from '../state/index.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { EndpointDeps } from './deps.ts';
import type { TxnOpInput, TxnResultItem } from './txn.ts';

/** A permission: method, name, and for a service in a namespace that namespace's context. */
type Need = [AuthorizerMethod, string, AuthorizerContext?] | null;

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

/**
 * What a catalog op needs. Consul's vet*TxnOp ask for write on the names the op gives, matched
 * case-sensitively like every ACL rule (a rule for service "web" does not cover an op naming
 * "WEB"). The write itself finds the node, instance and check case-insensitively, so, as the
 * catalog register endpoint does (Consul's vetRegisterWithACL), the stored service an op would
 * replace, delete or attach a check to needs write under its own name too.
 */
function catalogNeeds(op: TxnOpInput, deps: EndpointDeps): Need[] {
  const cat = deps.replica.catalog;
  if (op.Node) {
    const node = typeof op.Node.Node === 'string' ? op.Node.Node : (op.Node.Node?.Node ?? '');
    return op.Node.Verb === 'get' ? [] : [['nodeWrite', node]];
  }
  if (op.Service) {
    if (op.Service.Verb === 'get') return [];
    const s = op.Service.Service ?? {};
    // A service's rules are its namespace's; the node is the partition's.
    const ctx = entContext(op.Service.ent);
    const scat = op.Service.ent ? catalogOf(deps.replica, op.Service.ent) : cat;
    const node = partitionCatalog(deps.replica, partitionOf(op.Service.ent)).nodeName(typeof op.Service.Node === 'string' ? op.Service.Node : '');
    const stored = scat.services.get(node)?.get(scat.serviceId(node, s.ID || s.Service || ''));
    return withStored(['serviceWrite', s.Service ?? '', ctx], stored?.Service);
  }
  if (op.Check) {
    if (op.Check.Verb === 'get') return [];
    const c = op.Check.Check ?? {};
    const ctx = entContext(op.Check.ent);
    const nodeCtx = nodeContextOf(op.Check.ent);
    const scat = op.Check.ent ? catalogOf(deps.replica, op.Check.ent) : cat;
    const node = partitionCatalog(deps.replica, partitionOf(op.Check.ent)).nodeName(c.Node ?? '');
    if (op.Check.Verb === 'delete' || op.Check.Verb === 'delete-cas') {
      const stored = scat.checks.get(node)?.get(scat.checkId(node, c.CheckID ?? ''));
      // The stored check's service is the op's namespace's even when the op names a node check.
      if (stored?.ServiceID) return withStored(c.ServiceID ? ['serviceWrite', c.ServiceName ?? '', ctx] : ['nodeWrite', c.Node ?? '', nodeCtx], stored.ServiceName, ctx);
    }
    if (!c.ServiceID) return [['nodeWrite', c.Node ?? '', nodeCtx]];
    const svc = scat.services.get(node)?.get(scat.serviceId(node, c.ServiceID));
    return withStored(['serviceWrite', c.ServiceName ?? '', ctx], svc?.Service, ctx);
  }
  if (op.Session) {
    const s = deps.replica.sessions.get(op.Session.Session?.ID ?? '');
    return [['sessionWrite', s && sessionInTenant(s, op.Session.ent) ? s.Node : '']];
  }
  return [];
}

/** `given`, and service write on the stored service's name (in `ctx`) when there is one and `given` is not that. */
function withStored(given: NonNullable<Need>, stored: string | undefined, ctx = given[2]): Need[] {
  return stored === undefined || (given[0] === 'serviceWrite' && given[1] === stored) ? [given] : [given, ['serviceWrite', stored, ctx]];
}

/** The permission-denied text for op `op`, or null when the caller may run it. */
export function txnOpDenied(deps: EndpointDeps, id: AclIdentity | undefined, op: TxnOpInput): string | null {
  if (!id || unrestricted(id)) return null;
  const needs = op.KV ? [kvNeed(op.KV.Verb, op.KV.Key)] : catalogNeeds(op, deps);
  const opCtx = op.KV ? entContext(op.KV.ent) : op.Session ? entContext(op.Session.ent) : undefined;
  for (const need of needs) {
    const ctx = need?.[2] ?? opCtx;
    if (need && !allowed(id, need[0], need[1], ctx)) return denialFor(id.accessorID, need[0], need[1], ctx).message;
  }
  return null;
}

/** Drops results the caller may not read (KV by key, catalog records by node and service). */
export function filterTxnResults(id: AclIdentity | undefined, results: TxnResultItem[]): TxnResultItem[] {
  if (!id) return results;
  return results.filter((r) => {
    if (r.KV) return allowed(id, 'keyRead', r.KV.Key, kvContext(r.KV));
    if (r.Node) return allowed(id, 'nodeRead', (r.Node as Node).Node);
    if (r.Service) return allowed(id, 'serviceRead', (r.Service as NodeService).Service, tenantContext(r.Service));
    if (r.Check) {
      const c = r.Check as HealthCheck;
      return allowed(id, 'nodeRead', c.Node, partitionContext(c)) && (!c.ServiceName || allowed(id, 'serviceRead', c.ServiceName, tenantContext(c)));
    }
    return true;
  });
}

/** The ACL context of a KV entry's tenant (none for the default tenant's entries). */
function kvContext(e: KVEntry) {
  return tenantContext(e);
}

/** The ACL context of a result showing its tenant (a namespaced catalog op's); none without. */
function tenantContext(e: object): AuthorizerContext | undefined {
  const t = e as { Namespace?: string; Partition?: string };
  return t.Namespace === undefined ? undefined : entContext({ namespace: t.Namespace, partition: t.Partition ?? 'default' });
}

/** The partition a catalog op acts in (`default` when it names none). */
function partitionOf(ent: EnterpriseMeta | undefined): string {
  return ent?.partition.toLowerCase() ?? 'default';
}

/** The ACL context of node rules for an op's partition (none in the default partition, as before tenancy). */
function nodeContextOf(ent: EnterpriseMeta | undefined): AuthorizerContext | undefined {
  const ap = partitionOf(ent);
  return ap === 'default' ? undefined : entContext(partitionEnt(ap));
}

/** The ACL context of node rules for a result showing a partition other than default; none otherwise. */
function partitionContext(e: object): AuthorizerContext | undefined {
  const ap = (e as { Partition?: string }).Partition;
  return ap === undefined || ap.toLowerCase() === 'default' ? undefined : entContext(partitionEnt(ap.toLowerCase()));
}
