// Validate of the discovery chain kinds beyond names and subsets (Consul's
// ServiceRouterConfigEntry.Validate and the Redirect/Failover/timeout/LoadBalancer checks of
// ServiceResolverConfigEntry.Validate), with Consul's texts; nested keys in any spelling.
import { durationMs, pick, pickList, pickObj, pickStr } from '../connect/discovery-chain/index.ts';

type Obj = Record<string, unknown>;
const q = (s: string): string => JSON.stringify(s);
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx', 'refused-stream', 'cancelled',
  'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);
const LB_POLICIES = new Set(['', 'random', 'round_robin', 'least_request', 'ring_hash', 'maglev']);
const HASH_FIELDS = new Set(['header', 'cookie', 'query_parameter']);
const count = (...xs: unknown[]): number => xs.filter(Boolean).length;

/** Consul's normalization of a router: match methods upper-cased. */
export function normalizeRouter(e: Obj): void {
  for (const route of pickList(e, 'Routes')) {
    const http = pickObj(pickObj(route, 'Match'), 'HTTP');
    const methods = pick(http, 'Methods');
    if (http && Array.isArray(methods)) {
      const key = Object.keys(http).find((k) => k.toLowerCase() === 'methods')!;
      http[key] = methods.map((m) => String(m).toUpperCase());
    }
  }
}

function routeMatchError(i: number, http: Obj): string | null {
  const exact = pickStr(http, 'PathExact');
  const prefix = pickStr(http, 'PathPrefix');
  if (exact && !exact.startsWith('/')) return `Route[${i}] PathExact doesn't start with '/': ${q(exact)}`;
  if (prefix && !prefix.startsWith('/')) return `Route[${i}] PathPrefix doesn't start with '/': ${q(prefix)}`;
  if (count(exact, prefix, pickStr(http, 'PathRegex')) > 1) return `Route[${i}] should only contain at most one of PathExact, PathPrefix, or PathRegex`;
  for (const [j, h] of pickList(http, 'Header').entries()) {
    if (!pickStr(h, 'Name')) return `Route[${i}] Header[${j}] missing required Name field`;
    if (count(pick(h, 'Present') === true, pickStr(h, 'Exact'), pickStr(h, 'Regex'), pickStr(h, 'Prefix'), pickStr(h, 'Suffix')) !== 1) {
      return `Route[${i}] Header[${j}] should only contain one of Present, Exact, Prefix, Suffix, or Regex`;
    }
  }
  for (const [j, p] of pickList(http, 'QueryParam').entries()) {
    if (!pickStr(p, 'Name')) return `Route[${i}] QueryParam[${j}] missing required Name field`;
    if (count(pick(p, 'Present') === true, pickStr(p, 'Exact'), pickStr(p, 'Regex')) !== 1) {
      return `Route[${i}] QueryParam[${j}] should only contain one of Present, Exact, or Regex`;
    }
  }
  const seen = new Set<string>();
  for (const m of pickList(http, 'Methods') as string[]) {
    if (!HTTP_METHODS.has(m)) return `Route[${i}] Methods contains an invalid method ${q(m)}`;
    if (seen.has(m)) return `Route[${i}] Methods contains ${q(m)} more than once`;
    seen.add(m);
  }
  return null;
}

/** ServiceRouterConfigEntry.Validate after the name and meta checks. */
export function validateRouter(e: Obj): string | null {
  for (const [i, route] of pickList(e, 'Routes').entries()) {
    const http = pickObj(pickObj(route, 'Match'), 'HTTP');
    if (http) {
      const err = routeMatchError(i, http);
      if (err) return err;
    }
    const dest = pickObj(route, 'Destination');
    if (!dest) continue;
    if (pickStr(dest, 'PrefixRewrite') && !(pickStr(http, 'PathExact') || pickStr(http, 'PathPrefix'))) {
      return `Route[${i}] cannot make use of PrefixRewrite without configuring either PathExact or PathPrefix`;
    }
    for (const r of pickList(dest, 'RetryOn') as string[]) {
      if (!RETRY_ON.has(r)) return `Route[${i}] contains an invalid retry condition: ${q(r)}`;
    }
  }
  return null;
}

function redirectError(e: Obj, subsets: Obj): string | null {
  const r = pickObj(e, 'Redirect');
  if (!r) return null;
  if (Object.keys(pickObj(e, 'Failover') ?? {}).length > 0) return 'Redirect and Failover cannot both be set';
  const [svc, subset, ns, ap, dc, peer] = ['Service', 'ServiceSubset', 'Namespace', 'Partition', 'Datacenter', 'Peer'].map((f) => pickStr(r, f));
  if (!svc && !subset && !ns && !ap && !dc && !peer) return 'Redirect is empty';
  if (peer && subset) return 'Redirect.Peer cannot be set with Redirect.ServiceSubset';
  if (peer && ap) return 'Redirect.Partition cannot be set with Redirect.Peer';
  if (peer && dc) return 'Redirect.Peer cannot be set with Redirect.Datacenter';
  if (!svc) {
    for (const [v, f] of [[subset, 'ServiceSubset'], [ns, 'Namespace'], [ap, 'Partition'], [peer, 'Peer']]) {
      if (v) return `Redirect.${f} defined without Redirect.Service`;
    }
  } else if (subset && svc === e.Name && !Object.hasOwn(subsets, subset)) {
    return `Redirect.ServiceSubset ${q(subset)} is not a valid subset of ${q(String(e.Name))}`;
  }
  return null;
}

function failoverTargetError(e: Obj, subsets: Obj, prefix: string, t: unknown): string | null {
  const [svc, subset, ap, dc, peer] = ['Service', 'ServiceSubset', 'Partition', 'Datacenter', 'Peer'].map((f) => pickStr(t, f));
  if (peer && subset) return `${prefix}Peer cannot be set with ServiceSubset`;
  if (peer && ap) return `${prefix}Partition cannot be set with Peer`;
  if (peer && dc) return `${prefix}Peer cannot be set with Datacenter`;
  if (ap && dc) return `${prefix}Partition cannot be set with Datacenter`;
  if (subset && (!svc || svc === e.Name) && !Object.hasOwn(subsets, subset)) {
    return `${prefix}ServiceSubset ${q(subset)} is not a valid subset of ${q(String(e.Name))}`;
  }
  return null;
}

function failoverError(e: Obj, subsets: Obj): string | null {
  for (const [subset, f] of Object.entries(pickObj(e, 'Failover') ?? {})) {
    const prefix = `Bad Failover[${q(subset)}]: `;
    if (subset !== '*' && !Object.hasOwn(subsets, subset)) return `${prefix}not a valid subset subset`;
    const [svc, svcSubset, ns] = ['Service', 'ServiceSubset', 'Namespace'].map((x) => pickStr(f, x));
    const dcs = pickList(f, 'Datacenters');
    const targets = pickList(f, 'Targets');
    if (!svc && !svcSubset && !ns && dcs.length === 0 && targets.length === 0) {
      return `${prefix}one of Service, ServiceSubset, Namespace, Targets, or Datacenters is required`;
    }
    if (!['', 'default', 'order-by-locality'].includes(pickStr(pickObj(f, 'Policy'), 'Mode'))) {
      return `${prefix}Policy must be one of '', 'default', or 'order-by-locality'`;
    }
    if (svcSubset && (!svc || svc === e.Name) && !Object.hasOwn(subsets, svcSubset)) {
      return `${prefix}ServiceSubset ${q(svcSubset)} is not a valid subset of ${q(svc)}`;
    }
    if (dcs.length && targets.length) return `${prefix}Targets cannot be set with Datacenters`;
    if (svcSubset && targets.length) return `${prefix}Targets cannot be set with ServiceSubset`;
    if (svc && targets.length) return `${prefix}Targets cannot be set with Service`;
    for (const [i, t] of targets.entries()) {
      const err = failoverTargetError(e, subsets, `Bad Failover[${q(subset)}].Targets[${i}]: `, t);
      if (err) return err;
    }
    if (dcs.some((dc) => dc === '')) return `Bad Failover[${q(subset)}].Datacenters: found empty datacenter`;
  }
  return null;
}

function loadBalancerError(e: Obj): string | null {
  const lb = pickObj(e, 'LoadBalancer');
  if (!lb) return null;
  const policy = pickStr(lb, 'Policy');
  if (!LB_POLICIES.has(policy)) return `Bad LoadBalancer policy: ${q(policy)} is not supported`;
  if (policy !== 'ring_hash' && pickObj(lb, 'RingHashConfig')) {
    return `Bad LoadBalancer configuration. RingHashConfig specified for incompatible load balancing policy ${q(policy)}`;
  }
  if (policy !== 'least_request' && pickObj(lb, 'LeastRequestConfig')) {
    return `Bad LoadBalancer configuration. LeastRequestConfig specified for incompatible load balancing policy ${q(policy)}`;
  }
  const hashes = pickList(lb, 'HashPolicies');
  if (!['ring_hash', 'maglev'].includes(policy) && hashes.length > 0) {
    return `Bad LoadBalancer configuration: HashPolicies specified for non-hash-based Policy: ${q(policy)}`;
  }
  for (const [i, hp] of hashes.entries()) {
    const fieldName = pickStr(hp, 'Field');
    const value = pickStr(hp, 'FieldValue');
    const sourceIp = pick(hp, 'SourceIP') === true;
    if (fieldName && !HASH_FIELDS.has(fieldName)) return `Bad LoadBalancer HashPolicy[${i}]: ${q(fieldName)} is not a supported field`;
    if (sourceIp && fieldName) return `Bad LoadBalancer HashPolicy[${i}]: A single hash policy cannot hash both a source address and a ${q(fieldName)}`;
    if (sourceIp && value) return `Bad LoadBalancer HashPolicy[${i}]: A FieldValue cannot be specified when hashing SourceIP`;
    if (fieldName && !value) return `Bad LoadBalancer HashPolicy[${i}]: Field ${q(fieldName)} was specified without a FieldValue`;
    if (value && !fieldName) return `Bad LoadBalancer HashPolicy[${i}]: FieldValue requires a Field to apply to`;
  }
  return null;
}

/** The Redirect, Failover, timeout and LoadBalancer checks of ServiceResolverConfigEntry.Validate. */
export function validateResolverRules(e: Obj): string | null {
  const subsets = pickObj(e, 'Subsets') ?? {};
  const err = redirectError(e, subsets) ?? failoverError(e, subsets);
  if (err) return err;
  for (const f of ['ConnectTimeout', 'RequestTimeout']) {
    const v = pick(e, f);
    if (durationMs(v) < 0) return `Bad ${f} '${String(v)}', must be >= 0`;
  }
  return loadBalancerError(e);
}
