// Equality of local and catalog entries for anti-entropy (Consul's NodeService.IsSame and
// HealthCheck.IsSame): zero values and their absence are the same, Raft indexes never count.
import type { HealthCheck, NodeService, ServiceAddress } from '../../api/catalog-types.ts';
import type { LocalService } from './definition.ts';
import type { LocalCheck } from './state.ts';

// Drops null, '', 0, false, [] and {} recursively and sorts keys, so `Tags: null` equals
// `Tags: []` and the catalog's default Proxy block equals an absent one.
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = v.map(canonical);
    return a.length ? a : undefined;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const c = canonical((v as Record<string, unknown>)[k]);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === null || v === '' || v === 0 || v === false || v === undefined) return undefined;
  return v;
}

/** Stable JSON of a value with zero values dropped. */
export function canonicalJSON(v: unknown): string {
  return JSON.stringify(canonical(v) ?? null);
}

const SERVICE_FIELDS = ['Kind', 'ID', 'Service', 'Tags', 'Address', 'TaggedAddresses', 'Meta', 'Port', 'SocketPath', 'Weights', 'EnableTagOverride', 'Proxy', 'Connect', 'Locality'] as const;
const CHECK_FIELDS = ['CheckID', 'Name', 'Status', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Type', 'Interval', 'Timeout', 'ExposedPort', 'Definition'] as const;

function pick(rec: object, fields: readonly string[]): Record<string, unknown> {
  const r = rec as Record<string, unknown>;
  return Object.fromEntries(fields.map((f) => [f, r[f]]));
}

/** The catalog form of a local service (with its Namespace outside the default one). */
export function toNodeService(s: LocalService): Partial<NodeService> {
  const out = pick(s, SERVICE_FIELDS) as Partial<NodeService>;
  if (s.Namespace) out.Namespace = s.Namespace;
  return out;
}

/** True when the catalog holds the local service unchanged. */
export function sameService(local: LocalService, remote: NodeService): boolean {
  return canonicalJSON(pick(local, SERVICE_FIELDS)) === canonicalJSON(pick(remote, SERVICE_FIELDS));
}

/**
 * The local service with the tagged addresses the servers set under the reserved `consul-` prefix
 * (a mesh service's `consul-virtual` VIP) merged in from its catalog copy, as Consul's agent merges
 * them: they never make it look out of sync, and the agent's own answers show them. Unchanged
 * (the same object) when the catalog copy has none the local one lacks.
 */
export function withServerTaggedAddresses(local: LocalService, remote: NodeService): LocalService {
  const rt = remote.TaggedAddresses;
  if (!rt) return local;
  let merged: Record<string, ServiceAddress> | undefined;
  for (const k in rt) {
    if (!k.startsWith('consul-')) continue;
    const have = local.TaggedAddresses?.[k];
    if (have && have.Address === rt[k].Address && have.Port === rt[k].Port) continue;
    merged ??= { ...(local.TaggedAddresses ?? {}) };
    merged[k] = rt[k];
  }
  return merged ? { ...local, TaggedAddresses: merged } : local;
}

/** True when the catalog holds the local check unchanged; `ignoreOutput` while a write-back is deferred. */
export function sameCheck(local: LocalCheck, remote: HealthCheck, ignoreOutput: boolean): boolean {
  const l = pick(local, CHECK_FIELDS);
  const r = pick(remote, CHECK_FIELDS);
  if (ignoreOutput) l.Output = r.Output = '';
  return canonicalJSON(l) === canonicalJSON(r);
}
