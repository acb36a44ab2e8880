// Reading the structured fields of router, splitter and resolver entries: the stored JSON keeps
// nested keys as the user spelled them (`path_prefix`, `onlypassing`), matched here the way
// Consul's decoder matches them (case-insensitively, snake_case too), and rendered canonically.
import { parseGoDuration } from '../../duration.ts';

type Obj = Record<string, unknown>;

const fold = (k: string): string => k.toLowerCase().replace(/_/g, '');

/** Field names of the route, split and resolver structures Consul renders in compiled chains. */
const NAMES = [
  'HTTP', 'PathExact', 'PathPrefix', 'PathRegex', 'CaseInsensitive', 'Header', 'QueryParam', 'Methods', 'Name',
  'Present', 'Exact', 'Prefix', 'Suffix', 'Contains', 'Regex', 'IgnoreCase', 'Invert', 'Service', 'ServiceSubset',
  'Namespace', 'Partition', 'PrefixRewrite', 'RequestTimeout', 'IdleTimeout', 'NumRetries', 'RetryOnConnectFailure',
  'RetryOn', 'RetryOnStatusCodes', 'RequestHeaders', 'ResponseHeaders', 'Add', 'Set', 'Remove', 'Match', 'Destination',
  'Weight', 'Filter', 'OnlyPassing', 'Datacenter', 'Datacenters', 'Peer', 'SamenessGroup', 'Targets', 'Policy', 'Mode',
  'Regions', 'RingHashConfig', 'LeastRequestConfig', 'HashPolicies', 'MinimumRingSize', 'MaximumRingSize',
  'ChoiceCount', 'Field', 'FieldValue', 'CookieConfig', 'SourceIP', 'Terminal', 'Session', 'TTL', 'Path',
];
const CANONICAL = new Map(NAMES.map((n) => [fold(n), n]));
/** Maps whose keys are data (header names), not field names. */
const OPAQUE = new Set(['Add', 'Set']);

/** The value of `field` in `o`, matching the key as Consul's decoder does. */
export function pick(o: unknown, field: string): unknown {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const rec = o as Obj;
  if (field in rec) return rec[field];
  const want = fold(field);
  for (const [k, v] of Object.entries(rec)) if (fold(k) === want) return v;
  return undefined;
}

/** A string field, '' when absent. */
export const pickStr = (o: unknown, field: string): string => {
  const v = pick(o, field);
  return typeof v === 'string' ? v : '';
};

/** An object field (a one-element list counts as the object, as HCL blocks decode), or undefined. */
export function pickObj(o: unknown, field: string): Obj | undefined {
  let v = pick(o, field);
  if (Array.isArray(v) && v.length === 1) v = v[0];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** A list field, [] when absent. */
export function pickList(o: unknown, field: string): unknown[] {
  const v = pick(o, field);
  return Array.isArray(v) ? v : [];
}

/** A structure with its keys spelled as Consul's JSON spells them; empty values dropped (omitempty). */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v as Obj)) {
    const name = CANONICAL.get(fold(k)) ?? k;
    if (x === '' || x === null || x === false || x === 0 || (Array.isArray(x) && x.length === 0)) continue;
    out[name] = OPAQUE.has(name) ? x : canonical(x);
  }
  return out;
}

/** A duration field (Go string or nanoseconds) in milliseconds; 0 when absent or invalid. */
export function durationMs(v: unknown): number {
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'string' && v !== '') return parseGoDuration(v) ?? 0;
  return 0;
}
