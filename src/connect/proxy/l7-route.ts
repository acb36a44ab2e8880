// Routing one HTTP request through a compiled discovery chain, as Envoy does with the routes
// Consul generates from it: the router's first matching route, a weighted pick among the
// splitter's legs, and the resolver's target with its failover targets, plus the route's options.
import {
  durationMs, pick, pickList, pickObj, pickStr,
  type CompiledDiscoveryChain, type DiscoveryGraphNode, type DiscoveryResolver, type DiscoverySplit, type DiscoveryTarget,
} from '../discovery-chain/index.ts';

/** The parts of a request that routes match on; header names in lower case. */
export interface L7Request {
  method: string;
  /** The path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** The client's address, for source-IP hash policies. */
  sourceIp?: string;
}

/** Header changes (Consul's HTTPHeaderModifiers), applied as Envoy does: Remove, then Add (appending), then Set. */
export interface HeaderOps {
  Add?: Record<string, string>;
  Set?: Record<string, string>;
  Remove?: string[];
}

/** How a request is retried (a route destination's retry fields). */
export interface RetryPolicy {
  /** Attempts after the first. */
  numRetries: number;
  onConnectFailure: boolean;
  onStatusCodes: number[];
  /** Envoy retry conditions (RetryOn): 5xx, gateway-error, reset, connect-failure, retriable-4xx, … */
  on: string[];
}

/** Where a request goes and how it is changed on the way. */
export interface RouteDecision {
  /** The resolver's target first, then its failover targets in order. */
  targets: DiscoveryTarget[];
  /** The path to send (after PrefixRewrite). */
  path: string;
  /** 0: the default (15 s, Envoy's); negative: none. */
  requestTimeoutMs: number;
  retry: RetryPolicy;
  /** Applied in order (the split's, then the route's, so the route's win as in Envoy). */
  requestHeaders: HeaderOps[];
  responseHeaders: HeaderOps[];
  /** The resolver's LoadBalancer (Policy, LeastRequestConfig, HashPolicies…), if any. */
  loadBalancer?: unknown;
}

type Obj = Record<string, unknown>;

const regexCache = new Map<string, RegExp | null>();

/**
 * The V8 flag that lets RegExps use the linear-time engine (the `l` flag), which a proxy
 * process sets at start so route regexes run as RE2's do, in time linear in the value.
 */
export const LINEAR_REGEXP_FLAG = '--enable-experimental-regexp-engine';

/** Quantifiers whose maximum is above this count as unbounded (V8's linear engine takes up to 16). */
const BOUNDED_MAX = 16;

/**
 * Whether backtracking `source` runs in at most quadratic time on any input: no backreference or
 * lookaround (RE2 has neither), no quantified group that holds a quantifier or an alternation
 * (the nested and overlapping repetitions that backtrack exponentially) and at most two
 * unbounded quantifiers in all. Conservative: some harmless patterns are refused too.
 */
export function backtrackSafe(source: string): boolean {
  if (/\\[1-9]|\\k<|\(\?<?[=!]/.test(source)) return false;
  // Per open group: whether it holds a quantifier or an alternation.
  const groups: boolean[] = [];
  let unbounded = 0;
  // Whether the atom just read is a group that holds a quantifier or an alternation.
  let riskyGroup = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    let repeats = 0;
    if (c === '\\') i++;
    else if (c === '[') {
      // A class is one atom: skip to its closing bracket.
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
    } else if (c === '(') {
      groups.push(false);
      if (source[i + 1] === '?') i++;
      continue;
    } else if (c === ')') {
      riskyGroup = groups.pop() ?? false;
      if (riskyGroup && groups.length) groups[groups.length - 1] = true;
      continue;
    } else if (c === '|') {
      if (groups.length) groups[groups.length - 1] = true;
    } else if (c === '*' || c === '+') repeats = Infinity;
    else if (c === '?') repeats = 1;
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (m) {
        repeats = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
        i += m[0].length - 1;
      }
    }
    if (repeats > 0) {
      // A repeated group that itself repeats or alternates backtracks exponentially.
      if (riskyGroup && repeats > 1) return false;
      if (repeats > BOUNDED_MAX) unbounded++;
      if (groups.length) groups[groups.length - 1] = true;
      // A lazy suffix belongs to this quantifier.
      if (source[i + 1] === '?') i++;
    }
    riskyGroup = false;
  }
  return unbounded <= 2;
}

/**
 * RE2-style `source` (Envoy's safe_regex) as a full-string matcher that cannot hang the proxy on
 * a hostile value: V8's linear-time engine when the process enables it and the pattern allows it,
 * else the backtracking engine for patterns backtrackSafe accepts. Null for an invalid pattern
 * or one neither takes (it matches nothing).
 */
export function compileSafe(source: string): RegExp | null {
  const full = `^(?:${source})$`;
  try {
    return new RegExp(full, 'l');
  } catch {
    // The linear engine is off in this process, or the pattern needs backtracking.
  }
  try {
    const re = new RegExp(full);
    return backtrackSafe(source) ? re : null;
  } catch {
    return null;
  }
}

/**
 * A full match of RE2-style `source`; an invalid or unsafe pattern matches nothing. Envoy ignores
 * case-insensitivity for safe_regex matchers, so there is no case folding here.
 */
export function fullMatch(source: string, value: string): boolean {
  let re = regexCache.get(source);
  if (re === undefined) {
    re = compileSafe(source);
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(source, re);
  }
  return re !== null && re.test(value);
}

function headerValue(req: L7Request, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * One header matcher (Consul's ServiceRouteHTTPMatchHeader), tried in Consul's order: Exact,
 * Regex, Prefix, Suffix, Contains, Present. A matcher with none of them is skipped (matches).
 */
function headerMatches(m: unknown, req: L7Request): boolean {
  const ic = pick(m, 'IgnoreCase') === true;
  const fold = (x: string) => (ic ? x.toLowerCase() : x);
  const str = (field: string) => pickStr(m, field);
  let test: ((v: string) => boolean) | undefined;
  if (str('Exact')) test = (v) => fold(v) === fold(str('Exact'));
  else if (str('Regex')) test = (v) => fullMatch(str('Regex'), v);
  else if (str('Prefix')) test = (v) => fold(v).startsWith(fold(str('Prefix')));
  else if (str('Suffix')) test = (v) => fold(v).endsWith(fold(str('Suffix')));
  else if (str('Contains')) test = (v) => fold(v).includes(fold(str('Contains')));
  else if (pick(m, 'Present') === true) test = () => true;
  else return true;
  const value = headerValue(req, str('Name'));
  // An absent header fails every match, so an inverted one matches (Envoy's rule).
  return (value !== undefined && test(value)) !== (pick(m, 'Invert') === true);
}

/** One query parameter matcher (Consul's ServiceRouteHTTPMatchQueryParam): Exact, Regex, then Present; none: skipped. */
function queryMatches(m: unknown, req: L7Request): boolean {
  const exact = pickStr(m, 'Exact');
  const regex = pickStr(m, 'Regex');
  if (!exact && !regex && pick(m, 'Present') !== true) return true;
  const value = req.query.get(pickStr(m, 'Name'));
  if (value === null) return false;
  if (exact) return value === exact;
  if (regex) return fullMatch(regex, value);
  return true;
}

/** The path part of a match: what it matched (for PrefixRewrite), or null when it does not match. */
function pathMatch(http: unknown, path: string): string | null {
  const ic = pick(http, 'CaseInsensitive') === true;
  const cmp = (s: string) => (ic ? s.toLowerCase() : s);
  const exact = pickStr(http, 'PathExact');
  if (exact) return cmp(path) === cmp(exact) ? path : null;
  const prefix = pickStr(http, 'PathPrefix');
  if (prefix) return cmp(path).startsWith(cmp(prefix)) ? path.slice(0, prefix.length) : null;
  const regex = pickStr(http, 'PathRegex');
  if (regex) return fullMatch(regex, path) ? '' : null;
  return '';
}

/**
 * Whether a route's Match (`{HTTP: {...}}`) accepts `req`; what the path match consumed (for
 * PrefixRewrite), or null. A route without a match accepts everything.
 */
export function matchRoute(match: unknown, req: L7Request): { matched: string } | null {
  const http = pickObj(match, 'HTTP');
  if (!http) return { matched: '' };
  const matched = pathMatch(http, req.path);
  if (matched === null) return null;
  const methods = pickList(http, 'Methods') as string[];
  // Consul gives Envoy the methods as one regex on :method, so they match with case.
  if (methods.length > 0 && !methods.some((m) => String(m) === req.method)) return null;
  if (!pickList(http, 'Header').every((h) => headerMatches(h, req))) return null;
  if (!pickList(http, 'QueryParam').every((q) => queryMatches(q, req))) return null;
  return { matched };
}

/**
 * One leg of a splitter, chosen with probability weight / total (Consul's weights are percents
 * with two decimals, given to Envoy as integers out of 10000); null when every weight is 0.
 */
export function pickSplit(splits: DiscoverySplit[], random: () => number): DiscoverySplit | null {
  const weights = splits.map((s) => Math.max(0, Math.trunc(s.Weight * 100)));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let r = Math.floor(random() * total);
  for (let i = 0; i < splits.length; i++) {
    if (r < weights[i]) return splits[i];
    r -= weights[i];
  }
  return splits[splits.length - 1];
}

function headerOps(def: unknown, field: string): HeaderOps | undefined {
  const o = pickObj(def, field);
  if (!o) return undefined;
  const map = (x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, string>) : undefined);
  return { Add: map(pick(o, 'Add')), Set: map(pick(o, 'Set')), Remove: pickList(o, 'Remove') as string[] };
}

/** A route destination's retry fields (NumRetries, RetryOn, RetryOnStatusCodes, RetryOnConnectFailure) as the policy Envoy gets. */
export function retryPolicy(dest: unknown): RetryPolicy {
  const onConnectFailure = pick(dest, 'RetryOnConnectFailure') === true;
  const onStatusCodes = (pickList(dest, 'RetryOnStatusCodes') as unknown[]).map(Number).filter(Number.isInteger);
  const on = pickList(dest, 'RetryOn') as string[];
  let numRetries = Number(pick(dest, 'NumRetries') ?? 0) || 0;
  // A retry condition without a count gets Envoy's default of one retry.
  if (numRetries === 0 && (onConnectFailure || onStatusCodes.length > 0 || on.length > 0)) numRetries = 1;
  return { numRetries, onConnectFailure, onStatusCodes, on };
}

/** Routes `req` through `chain` from its start node; null when the chain leads nowhere. */
export function routeRequest(chain: CompiledDiscoveryChain, req: L7Request, random: () => number): RouteDecision | null {
  const nodes = chain.Nodes ?? {};
  const out: RouteDecision = {
    targets: [], path: req.path, requestTimeoutMs: 0,
    retry: { numRetries: 0, onConnectFailure: false, onStatusCodes: [], on: [] }, requestHeaders: [], responseHeaders: [],
  };
  let routeOps: { request?: HeaderOps; response?: HeaderOps } = {};
  let key = chain.StartNode ?? '';
  for (let hops = 0; hops < 64; hops++) {
    const node: DiscoveryGraphNode | undefined = nodes[key];
    if (!node) return null;
    if (node.Type === 'router') {
      const route = (node.Routes ?? []).map((r) => ({ r, m: matchRoute(r.Definition.Match, req) })).find((x) => x.m !== null);
      if (!route) return null;
      const dest = pickObj(route.r.Definition, 'Destination') as Obj | undefined;
      const rewrite = pick(dest, 'PrefixRewrite');
      if (typeof rewrite === 'string' && rewrite !== '' && route.m!.matched !== '') out.path = rewrite + req.path.slice(route.m!.matched.length);
      out.requestTimeoutMs = durationMs(pick(dest, 'RequestTimeout'));
      out.retry = retryPolicy(dest);
      routeOps = { request: headerOps(dest, 'RequestHeaders'), response: headerOps(dest, 'ResponseHeaders') };
      key = route.r.NextNode;
    } else if (node.Type === 'splitter') {
      const split = pickSplit(node.Splits ?? [], random);
      if (!split) return null;
      const req = headerOps(split.Definition, 'RequestHeaders');
      const res = headerOps(split.Definition, 'ResponseHeaders');
      if (req) out.requestHeaders.push(req);
      if (res) out.responseHeaders.push(res);
      key = split.NextNode;
    } else {
      // A resolver's RequestTimeout applies only when the chain starts at it: Consul puts it on
      // the Envoy route, which a router's routes and a splitter's legs do not share.
      if (hops === 0 && node.Resolver!.RequestTimeout) out.requestTimeoutMs = node.Resolver!.RequestTimeout / 1e6;
      out.loadBalancer = node.LoadBalancer;
      return finish(chain, node.Resolver!, out, routeOps);
    }
  }
  return null;
}

function finish(chain: CompiledDiscoveryChain, resolver: DiscoveryResolver, out: RouteDecision, routeOps: { request?: HeaderOps; response?: HeaderOps }): RouteDecision | null {
  const targets = chain.Targets ?? {};
  for (const id of [resolver.Target, ...(resolver.Failover?.Targets ?? [])]) if (targets[id]) out.targets.push(targets[id]);
  if (out.targets.length === 0) return null;
  if (routeOps.request) out.requestHeaders.push(routeOps.request);
  if (routeOps.response) out.responseHeaders.push(routeOps.response);
  return out;
}

/**
 * Applies `ops` to a header map (lower-case names) in place, each level as Envoy evaluates the
 * lists Consul gives it: Remove first, then Add (appending), then Set (replacing).
 */
export function applyHeaderOps(headers: Record<string, string | string[] | undefined>, ops: HeaderOps[]): void {
  for (const op of ops) {
    for (const name of op.Remove ?? []) delete headers[name.toLowerCase()];
    for (const [name, value] of Object.entries(op.Add ?? {})) {
      const k = name.toLowerCase();
      const prev = headers[k];
      headers[k] = prev === undefined ? String(value) : [...(Array.isArray(prev) ? prev : [prev]), String(value)];
    }
    for (const [name, value] of Object.entries(op.Set ?? {})) headers[name.toLowerCase()] = String(value);
  }
}

/** A request target split into its path and its query string (`?…` or ''); an absolute-form target loses its scheme and authority. */
export function requestPath(url: string): { path: string; search: string } {
  // An absolute-form target without a path (`http://h` or `http://h?q`) is for `/`.
  const rel = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '').replace(/^(?!\/)/, '/') : url;
  const q = rel.indexOf('?');
  return q === -1 ? { path: rel, search: '' } : { path: rel.slice(0, q), search: rel.slice(q) };
}

/** Whether an answered attempt is retried under the route's policy (Envoy's retry_on conditions). */
export function retriesOnStatus(status: number, p: RetryPolicy): boolean {
  if (p.onStatusCodes.includes(status)) return true;
  if (p.on.includes('5xx') && status >= 500) return true;
  if (p.on.includes('gateway-error') && status >= 502 && status <= 504) return true;
  return p.on.includes('retriable-4xx') && status === 409;
}

/** Whether an attempt that got no response is retried; `connected` tells a reset from a connect failure. */
export function retriesOnFailure(connected: boolean, p: RetryPolicy): boolean {
  if (p.on.includes('5xx') || p.on.includes('gateway-error') || p.on.includes('reset')) return true;
  return !connected && (p.onConnectFailure || p.on.includes('connect-failure'));
}

/**
 * How long to wait before the `n`-th retry (1 for the first): Envoy's fully jittered exponential
 * backoff with its 25 ms base and 250 ms cap (0–24 ms, 0–74 ms, 0–174 ms, …).
 */
export function retryBackoffMs(n: number, random: () => number): number {
  return Math.floor(random() * Math.min(25 * (2 ** n - 1), 250));
}
