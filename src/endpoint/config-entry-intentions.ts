// Normalize and Validate of service-intentions entries with Consul's texts
// (ServiceIntentionsConfigEntry.normalize/validate): config entry writes, and legacy (ID-based)
// intention writes, which keep LegacyID, times and per-source meta.
import { intentionPrecedence, WILDCARD } from '../connect/intentions.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName, type EnterpriseMeta } from '../state/index.ts';

type Obj = Record<string, unknown>;

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const count = (m: unknown): number => (m && typeof m === 'object' ? Object.keys(m).length : 0);
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);
const META_MAX_PAIRS = 64;
const META_KEY_MAX = 128;
const META_VALUE_MAX = 512;

/** Normalize: source Type defaulted, precedence computed, legacy fields cleared (non-legacy), methods upper-cased, sorted. */
export function normalizeIntentions(e: Obj, legacy = false, ent?: EnterpriseMeta): void {
  const name = str(e.Name);
  const destNs = tenancyName(ent?.namespace);
  const destAp = tenancyName(ent?.partition);
  for (const s of list(e.Sources)) {
    if (!s.Type) s.Type = 'consul';
    if (typeof s.Action === 'string') s.Action = s.Action.toLowerCase();
    // A local source inherits the destination's namespace and partition; a peer's or sameness
    // group's source only gets the default namespace (Consul's MergeNoWildcard / NormalizeNamespace).
    const local = !s.Peer && !s.SamenessGroup;
    // MergeNoWildcard: a wildcard destination namespace is not inherited (the source is then in `default`).
    const ns = tenancyName(str(s.Namespace) || (local && destNs !== WILDCARD ? destNs : ''));
    const ap = local ? tenancyName(str(s.Partition) || destAp) : tenancyName(str(s.Partition));
    // Stored only when not `default`, so a default-tenant entry keeps the form it always had.
    if (ns === DEFAULT_TENANCY_NAME) delete s.Namespace;
    else s.Namespace = ns;
    if (ap === DEFAULT_TENANCY_NAME) delete s.Partition;
    else s.Partition = ap;
    s.Precedence = intentionPrecedence(name, str(s.Name), destNs, ns);
    if (legacy) {
      if (!s.LegacyMeta) s.LegacyMeta = {};
    } else {
      // LegacyMeta stays so that Validate refuses the write instead of dropping it.
      delete s.LegacyID;
      delete s.LegacyCreateTime;
      delete s.LegacyUpdateTime;
    }
    for (const p of list(s.Permissions)) {
      const http = p.HTTP as Obj | undefined;
      if (http && Array.isArray(http.Methods)) http.Methods = http.Methods.map((m) => String(m).toUpperCase());
    }
  }
  // Highest precedence first; a stable sort keeps the written order among equals.
  if (Array.isArray(e.Sources)) e.Sources = list(e.Sources).sort((a, b) => Number(b.Precedence) - Number(a.Precedence));
}

/** A namespace or partition name as stored in an intention: folded, `default` when empty; `*` kept. */
function tenancyName(v: string | undefined): string {
  return v ? (v === WILDCARD ? v : foldTenancyName(v)) : DEFAULT_TENANCY_NAME;
}

/** validateIntentionWildcards for a name in its namespace and partition (absent: default). */
function wildcardError(name: string, peer: string, group: string, namespace = '', partition = ''): string | null {
  const ns = namespace || DEFAULT_TENANCY_NAME;
  if (ns !== WILDCARD && ns.includes(WILDCARD)) return "Namespace: wildcard character '*' cannot be used with partial values";
  if (name !== WILDCARD && name.includes(WILDCARD)) return "Name: wildcard character '*' cannot be used with partial values";
  if (name !== WILDCARD && ns === WILDCARD) return 'Name: exact value cannot follow wildcard namespace';
  if (partition.includes(WILDCARD)) return "Partition: cannot use wildcard '*' in partition";
  if (peer.includes(WILDCARD)) return "Peer: cannot use wildcard '*' in peer";
  if (group.includes(WILDCARD)) return "SamenessGroup: cannot use wildcard '*' in sameness group";
  return null;
}

function metaError(meta: unknown, prefix: string): string | null {
  const m = (meta && typeof meta === 'object' ? meta : {}) as Record<string, unknown>;
  if (Object.keys(m).length > META_MAX_PAIRS) return `${prefix}Meta exceeds maximum element count ${META_MAX_PAIRS}`;
  for (const [k, v] of Object.entries(m)) {
    if (k.length > META_KEY_MAX) return `${prefix}Meta key ${JSON.stringify(k)} exceeds maximum length ${META_KEY_MAX}`;
    if (String(v).length > META_VALUE_MAX) return `${prefix}Meta value for key ${JSON.stringify(k)} exceeds maximum length ${META_VALUE_MAX}`;
  }
  return null;
}

/** validateConfigEntryMeta: every problem, in Go's multierror text. */
function entryMetaErrors(meta: unknown): string | null {
  const m = (meta && typeof meta === 'object' ? meta : {}) as Record<string, unknown>;
  const errs: string[] = [];
  if (Object.keys(m).length > META_MAX_PAIRS) errs.push(`Meta exceeds maximum element count ${META_MAX_PAIRS}`);
  for (const [k, v] of Object.entries(m)) {
    if (k.length > META_KEY_MAX) errs.push(`Meta key ${JSON.stringify(k)} exceeds maximum length ${META_KEY_MAX}`);
    if (String(v).length > META_VALUE_MAX) errs.push(`Meta value for key ${JSON.stringify(k)} exceeds maximum length ${META_VALUE_MAX}`);
  }
  if (errs.length === 0) return null;
  return `${errs.length} error${errs.length === 1 ? '' : 's'} occurred:\n${errs.map((x) => `\t* ${x}`).join('\n')}\n\n`;
}

function permissionError(p: Obj, i: number, j: number): string | null {
  const at = `Sources[${i}].Permissions[${j}]`;
  if (p.Action !== 'allow' && p.Action !== 'deny') return `${at}.Action must be set to 'allow' or 'deny'`;
  const http = p.HTTP as Obj | undefined | null;
  if (!http) return `${at}.HTTP is required`;
  let parts = 0;
  for (const f of ['PathExact', 'PathPrefix'] as const) {
    const v = str(http[f]);
    if (v === '') continue;
    parts++;
    if (!v.startsWith('/')) return `${at}.HTTP.${f} doesn't start with '/': ${JSON.stringify(v)}`;
  }
  if (str(http.PathRegex) !== '') parts++;
  if (parts > 1) return `${at}.HTTP should only contain at most one of PathExact, PathPrefix, or PathRegex`;
  for (const [k, h] of list(http.Header).entries()) {
    if (!h.Name) return `${at}.HTTP.Header[${k}] missing required Name field`;
    const set = [h.Present === true, ...['Exact', 'Regex', 'Prefix', 'Suffix'].map((f) => str(h[f]) !== '')].filter(Boolean).length;
    if (set !== 1) return `${at}.HTTP.Header[${k}] should only contain one of Present, Exact, Prefix, Suffix, or Regex`;
    parts++;
  }
  const methods = Array.isArray(http.Methods) ? (http.Methods as string[]) : [];
  const seen = new Set<string>();
  for (const m of methods) {
    if (!HTTP_METHODS.has(m)) return `${at}.HTTP.Methods contains an invalid method ${JSON.stringify(m)}`;
    if (seen.has(m)) return `${at}.HTTP.Methods contains ${JSON.stringify(m)} more than once`;
    seen.add(m);
  }
  if (methods.length) parts++;
  if (parts === 0) return `${at}.HTTP should not be empty`;
  return null;
}

function legacyError(s: Obj, i: number, legacy: boolean): string | null {
  if (legacy) {
    if (s.Peer) return `Sources[${i}].Peer cannot be set by legacy intentions`;
    if (s.SamenessGroup) return `Sources[${i}].SamenessGroup cannot be set by legacy intentions`;
    const meta = metaError(s.LegacyMeta, `Sources[${i}].`);
    if (meta) return meta;
    if (!s.LegacyCreateTime) return `Sources[${i}].LegacyCreateTime must be set`;
    if (!s.LegacyUpdateTime) return `Sources[${i}].LegacyUpdateTime must be set`;
    if (!s.LegacyID) return `Sources[${i}].LegacyID must be set`;
    return null;
  }
  if (count(s.LegacyMeta) > 0) return `Sources[${i}].LegacyMeta must be omitted`;
  delete s.LegacyMeta;
  if (s.LegacyCreateTime) return `Sources[${i}].LegacyCreateTime must be omitted`;
  if (s.LegacyUpdateTime) return `Sources[${i}].LegacyUpdateTime must be omitted`;
  if (s.LegacyID) return `Sources[${i}].LegacyID must be omitted`;
  return null;
}

function sourceError(s: Obj, i: number, legacy: boolean, destIsWild: boolean): string | null {
  // Namespace/Partition were normalized (absent: default); wildcardError reads them as given.
  const name = str(s.Name);
  if (!name) return `Sources[${i}].Name is required`;
  const wild = wildcardError(name, str(s.Peer), str(s.SamenessGroup), str(s.Namespace), str(s.Partition));
  if (wild) return `Sources[${i}].${wild}`;
  if (s.Peer && s.Partition) return `Sources[${i}].Peer: cannot set Peer and Partition at the same time.`;
  if (s.SamenessGroup && s.Partition) return `Sources[${i}].SamenessGroup: cannot set SamenessGroup and Partition at the same time`;
  if (s.SamenessGroup && s.Peer) return `Sources[${i}].SamenessGroup: cannot set SamenessGroup and Peer at the same time`;
  if (str(s.Description).length > META_VALUE_MAX) return `Sources[${i}].Description exceeds maximum length ${META_VALUE_MAX}`;
  const leg = legacyError(s, i, legacy);
  if (leg) return leg;
  const perms = list(s.Permissions);
  if ((legacy || perms.length === 0) && s.Action !== 'allow' && s.Action !== 'deny') return `Sources[${i}].Action must be set to 'allow' or 'deny'`;
  if (perms.length && s.Action) return `Sources[${i}].Action must be omitted if Permissions are specified`;
  if (destIsWild && perms.length) return `Sources[${i}].Permissions cannot be specified on intentions with wildcarded destinations`;
  if (s.Type !== 'consul') return `Sources[${i}].Type must be set to 'consul'`;
  for (const [j, p] of perms.entries()) {
    const err = permissionError(p, i, j);
    if (err) return err;
  }
  return null;
}

/** Validate of a normalized entry; Consul's first error text or null. */
export function validateIntentions(e: Obj, legacy = false, ent?: EnterpriseMeta): string | null {
  const name = str(e.Name);
  if (!name) return 'Name is required';
  const wild = wildcardError(name, '', '', ent?.namespace, ent?.partition);
  if (wild) return wild;
  for (const p of list((e.JWT as Obj | undefined)?.Providers)) if (!p.Name) return 'JWT provider name is required';
  if (legacy) {
    if (count(e.Meta) > 0) return 'Meta must be omitted for legacy intention writes';
  } else {
    const meta = entryMetaErrors(e.Meta);
    if (meta) return meta;
  }
  const sources = list(e.Sources);
  if (sources.length === 0) return 'At least one source is required';
  const seen = new Set<string>();
  for (const [i, s] of sources.entries()) {
    const err = sourceError(s, i, legacy, name === WILDCARD || ent?.namespace === WILDCARD);
    if (err) return err;
    const key = `${str(s.Peer)}\0${str(s.SamenessGroup)}\0${str(s.Partition)}\0${str(s.Namespace)}\0${str(s.Name)}`;
    if (seen.has(key)) {
      if (s.Peer) return `Sources[${i}] defines peer(${JSON.stringify(str(s.Peer))}) ${JSON.stringify(str(s.Name))} more than once`;
      if (s.SamenessGroup) return `Sources[${i}] defines sameness-group(${JSON.stringify(str(s.SamenessGroup))}) ${JSON.stringify(str(s.Name))} more than once`;
      return `Sources[${i}] defines ${JSON.stringify(str(s.Name))} more than once`;
    }
    seen.add(key);
  }
  return null;
}
