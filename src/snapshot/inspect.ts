// What `snapshot inspect` reports about state.bin: record counts and sizes per kind, named after
// Consul's Raft message types (KVS, Register, Session, ACLToken, …), and an optional KV breakdown
// by key prefix. state.bin is the Store's NDJSON snapshot (one record per line after the header).
import { readSnapshot } from '../store/snapshot.ts';
import { TENANT_PREFIX, parseTenantKey } from '../state/tenancy.ts';

/** Count and total size of one kind of record (Consul's typeStats). */
export interface TypeStats {
  Name: string;
  Sum: number;
  Count: number;
}

/** The breakdown of one state.bin. */
export interface StateSummary {
  Stats: TypeStats[];
  StatsKV: TypeStats[] | null;
  TotalSize: number;
  TotalSizeKV: number;
}

/** Options of the KV breakdown (Consul's -kvdetails, -kvdepth, -kvfilter). */
export interface KvDetailOptions {
  depth: number;
  filter: string;
}

// Store key prefixes → Consul's message type names; the longest matching prefix wins.
const TYPES: [string, string][] = [
  ['kv/', 'KVS'], ['catalog/', 'Register'], ['session/', 'Session'], ['sessionlocks/', 'SessionLock'],
  ['acl/token/', 'ACLToken'], ['acl/policy/', 'ACLPolicy'], ['acl/role/', 'ACLRole'],
  ['acl/auth-method/', 'ACLAuthMethod'], ['acl/binding-rule/', 'ACLBindingRule'], ['acl/', 'ACLBootstrap'],
  ['config/', 'ConfigEntry'], ['ca/', 'ConnectCA'], ['intention/', 'Intention'], ['query/', 'PreparedQuery'], ['querylock/', 'PreparedQueryLock'],
  ['coordinate/', 'Coordinate'], ['autopilot/', 'Autopilot'], ['meta/', 'SystemMetadata'], ['guard/', 'NameGuard'],
  ['tenancy/partition/', 'Partition'], ['tenancy/namespace/', 'Namespace'],
  ['config-ns-wildcard/', 'ConfigEntry'],
  // Consul keeps the VIP counter in its free-IP table.
  ['vip/service/', 'ServiceVirtualIP'], ['vip/free/', 'FreeVirtualIP'], ['vip/counter', 'FreeVirtualIP'],
];

/** Consul's message type name for a Store key (`kv/…` → KVS, `catalog/…` → Register, …). */
export function recordType(key: string): string {
  // A non-default tenant's record counts as the kind of its inner key.
  const tenant = key.startsWith(TENANT_PREFIX) ? parseTenantKey(key) : null;
  if (tenant) return recordType(tenant.inner);
  let best: [string, string] | null = null;
  for (const t of TYPES) if (key.startsWith(t[0]) && (!best || t[0].length > best[0].length)) best = t;
  return best ? best[1] : key.split('/')[0];
}

function add(map: Map<string, TypeStats>, name: string, size: number): void {
  const s = map.get(name) ?? { Name: name, Sum: 0, Count: 0 };
  s.Sum += size;
  s.Count++;
  map.set(name, s);
}

// Largest first, then by name, as Consul sorts.
function sorted(map: Map<string, TypeStats>): TypeStats[] {
  return [...map.values()].sort((a, b) => (a.Sum === b.Sum ? (a.Name < b.Name ? -1 : 1) : b.Sum - a.Sum));
}

/** Validates state.bin and sums its records by kind (and KV keys by prefix when asked). */
export async function summarize(state: Buffer, kv?: KvDetailOptions): Promise<StateSummary> {
  const data = await readSnapshot((async function* () { yield state; })());
  const stats = new Map<string, TypeStats>();
  const kvStats = new Map<string, TypeStats>();
  let total = 0;
  let totalKV = 0;
  const lines = state.toString('utf8').split('\n').filter((l) => l);
  // Line 0 is the header and leases come before keys, so key i is the last kvs.length lines.
  const kvLines = lines.slice(lines.length - data.kvs.length);
  data.kvs.forEach((rec, i) => {
    const size = Buffer.byteLength(kvLines[i]) + 1;
    total += size;
    add(stats, recordType(rec.key), size);
    if (!kv) return;
    // A tenant's keys count under their own key, as Consul Enterprise's KV entries (the namespace is not part of the key).
    const inner = rec.key.startsWith(TENANT_PREFIX) ? parseTenantKey(rec.key)?.inner ?? '' : rec.key;
    if (!inner.startsWith('kv/')) return;
    const key = inner.slice(3);
    if (kv.filter && !key.startsWith(kv.filter)) return;
    add(kvStats, key.split('/').slice(0, Math.max(1, kv.depth)).join('/'), size);
    totalKV += size;
  });
  return { Stats: sorted(stats), StatsKV: kv ? sorted(kvStats) : null, TotalSize: total, TotalSizeKV: totalKV };
}

/** Consul's ByteSize: one decimal, `.0` trimmed, binary units (B, KB, MB, GB, TB). */
export function byteSize(bytes: number): string {
  if (bytes === 0) return '0';
  const units: [number, string][] = [[2 ** 40, 'TB'], [2 ** 30, 'GB'], [2 ** 20, 'MB'], [2 ** 10, 'KB'], [1, 'B']];
  const [div, unit] = units.find(([d]) => bytes >= d)!;
  return (bytes / div).toFixed(1).replace(/\.0$/, '') + unit;
}
