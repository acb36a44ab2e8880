// Which namespace and partition a request acts in (Consul's parseEntMeta, defaultMetaPartitionToAgent
// and ResolveTokenAndDefaultMeta in one place), and the check that a write's tenant exists and is
// not being deleted.
import { InternalError } from '../errors.ts';
import {
  DEFAULT_ENT, DEFAULT_TENANCY_NAME, isDefaultEnt, namespaceKey, partitionKey, type EnterpriseMeta, type TenantTables,
} from '../state/index.ts';
import type { Compare } from '../store/index.ts';

/** A namespace and partition as a source gives them; empty or absent: not given. */
export interface EntFields {
  namespace?: string;
  partition?: string;
}

/** Everything that may choose a request's tenant, each optional. */
export interface EntSources {
  /** The written object's own `Namespace`/`Partition` fields: they win ("take precedence over the ns query parameter"). */
  body?: EntFields;
  /** The request's `?ns`/`?partition` or X-Consul-Namespace/-Partition (http/tenancy.ts entInput). */
  request?: EntFields;
  /** The partition of the agent answering (client agents' `partition` config), for handlers Consul applies it to. */
  agentPartition?: string;
  /** The caller's token's home namespace and partition (absent: no token identity, so default/default). */
  token?: EnterpriseMeta;
  /** The request names a peer (`?peer=`): only the token's partition is taken, its namespace never. */
  peer?: boolean;
}

/**
 * The tenant a request acts in, each of namespace and partition taken from the first source that
 * gives it: the body, the request (query over header), the agent's partition (partition only;
 * Consul fills it on the agent before the servers see the request), then the token's scope as
 * Consul's ResolveTokenAndDefaultMeta merges it (with a peer, the token's partition and the
 * default namespace), then `default`. The result is DEFAULT_ENT itself for the default tenant.
 * A wildcard namespace (`*`) given by the request is kept; callers that refuse it check first.
 */
export function resolveEnt(s: EntSources): EnterpriseMeta {
  const namespace = s.body?.namespace || s.request?.namespace
    || (s.token && !s.peer ? s.token.namespace : '') || DEFAULT_TENANCY_NAME;
  const partition = s.body?.partition || s.request?.partition || s.agentPartition
    || s.token?.partition || DEFAULT_TENANCY_NAME;
  const ent = { partition, namespace };
  return isDefaultEnt(ent) ? DEFAULT_ENT : ent;
}

/**
 * Refuses a write into a tenant that does not exist or is marked for deletion, with the error
 * Consul's RPC answers (a 500 with its text). The default tenant always exists (its builtin
 * records may not be written yet), so it is never looked up.
 */
export function writableEnt(tenants: Pick<TenantTables, 'partitions' | 'namespaces'>, ent: EnterpriseMeta | undefined): void {
  if (isDefaultEnt(ent)) return;
  const { partition, namespace } = ent!;
  writablePartition(tenants, partition);
  if (namespace.toLowerCase() === DEFAULT_TENANCY_NAME) return;
  const ns = tenants.namespaces.namespace(ent!);
  if (!ns) throw new InternalError(`Namespace "${namespace}" does not exist`);
  if (ns.DeletedAt) throw new InternalError(`Namespace "${namespace}" is being deleted`);
}

/** Refuses a write into a partition that does not exist or is marked for deletion (writableEnt's partition half). */
export function writablePartition(tenants: Pick<TenantTables, 'partitions'>, partition: string): void {
  if (partition.toLowerCase() === DEFAULT_TENANCY_NAME) return;
  const ap = tenants.partitions.partition(partition);
  if (!ap) throw new InternalError(`Partition "${partition}" does not exist`);
  if (ap.DeletedAt) throw new InternalError(`Partition "${partition}" is being deleted`);
}

/**
 * Compares pinning the namespace and partition records of a non-default tenant as the replica
 * shows them (what writableEnt checked): a write planned before a DELETE marked its tenant, or
 * before the reaper purged it, then fails its compares and is planned again (and refused),
 * instead of landing under a prefix already purged, where a namespace later made with the same
 * name would find it. None for the default tenant or records not there (writableEnt refuses those).
 */
export function entPins(tenants: Pick<TenantTables, 'partitions' | 'namespaces'>, ent: EnterpriseMeta | undefined): Compare[] {
  if (isDefaultEnt(ent)) return [];
  const { partition, namespace } = ent!;
  const out: Compare[] = [];
  if (partition.toLowerCase() !== DEFAULT_TENANCY_NAME) {
    const ap = tenants.partitions.partition(partition);
    if (ap) out.push({ key: partitionKey(partition), target: 'modRevision', op: '=', value: ap.ModifyIndex });
  }
  if (namespace.toLowerCase() !== DEFAULT_TENANCY_NAME) {
    const ns = tenants.namespaces.namespace(ent!);
    if (ns) out.push({ key: namespaceKey(ent!), target: 'modRevision', op: '=', value: ns.ModifyIndex });
  }
  return out;
}
