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
}

/** Header changes (Consul's HTTPHeaderModifiers): Remove first, then Set, then Add. */
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
  /** 0: the default (15 s, Envoy's). */
  requestTimeoutMs: number;
  retry: RetryPolicy;
  /** Applied in order (the split's, then the route's, so the route's win as in Envoy). */
  requestHeaders: HeaderOps[];
  responseHeaders: HeaderOps[];
}

type Obj = Record<string, unknown>;

const regexCache = new Map<string, RegExp | null>();

/** A full-string match of RE2-style `source` (Envoy's safe_regex); an invalid pattern matches nothing. */
function fullMatch(source: string, value: string, ignoreCase = false): boolean {
  const key = `${ignoreCase ? 'i' : '-'}${source}`;
  let re = regexCache.get(key);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${source})$`, ignoreCase ? 'i' : '');
    } catch {
      re = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re !== null && re.test(value);
}

function headerValue(req: L7Request, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/** One header matcher (Consul's ServiceRouteHTTPMatchHeader). */
function headerMatches(m: unknown, req: L7Request): boolean {
  const value = headerValue(req, pickStr(m, 'Name'));
  const invert = pick(m, 'Invert') === true;
  if (pick(m, 'Present') === true) return (value !== undefined) !== invert;
  // An absent header fails every value match, and so an inverted one matches (Envoy's rule).
  if (value === undefined) return invert;
  const ic = pick(m, 'IgnoreCase') === true;
  const v = ic ? value.toLowerCase() : value;
  const want = (field: string): string | undefined => {
    const x = pick(m, field);
    if (typeof x !== 'string' || x === '') return undefined;
    return ic ? x.toLowerCase() : x;
  };
  let ok: boolean;
  const exact = want('Exact');
  const prefix = want('Prefix');
  const suffix = want('Suffix');
  const contains = want('Contains');
  const regex = pickStr(m, 'Regex');
  if (exact !== undefined) ok = v === exact;
  else if (prefix !== undefined) ok = v.startsWith(prefix);
  else if (suffix !== undefined) ok = v.endsWith(suffix);
  else if (contains !== undefined) ok = v.includes(contains);
  else if (regex) ok = fullMatch(regex, value, ic);
  else ok = true;
  return ok !== invert;
}

/** One query parameter matcher (Consul's ServiceRouteHTTPMatchQueryParam). */
function queryMatches(m: unknown, req: L7Request): boolean {
  const value = req.query.get(pickStr(m, 'Name'));
  if (value === null) return false;
  if (pick(m, 'Present') === true) return true;
  const exact = pick(m, 'Exact');
  if (typeof exact === 'string' && exact !== '') return value === exact;
  const regex = pickStr(m, 'Regex');
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
  if (regex) return fullMatch(regex, path, ic) ? '' : null;
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
  if (methods.length > 0 && !methods.some((m) => String(m).toUpperCase() === req.method.toUpperCase())) return null;
  if (!pickList(http, 'Header').every((h) => headerMatches(h, req))) return null;
  if (!pickList(http, 'QueryParam').every((q) => queryMatches(q, req))) return null;
  return { matched };
}

/**
 * One leg of a splitter, chosen with probability weight / total (Consul's weights are percents
 * with two decimals, given to Envoy as integers out of 10000); null when every weight is 0.
 */
export function pickSplit(splits: DiscoverySplit[], random: () => number): DiscoverySplit | null {
  const weights = splits.map((s) => Math.max(0, Math.round(s.Weight * 100)));
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

function retryPolicy(dest: unknown): RetryPolicy {
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
      return finish(chain, node.Resolver!, out, routeOps);
    }
  }
  return null;
}

function finish(chain: CompiledDiscoveryChain, resolver: DiscoveryResolver, out: RouteDecision, routeOps: { request?: HeaderOps; response?: HeaderOps }): RouteDecision | null {
  const targets = chain.Targets ?? {};
  for (const id of [resolver.Target, ...(resolver.Failover?.Targets ?? [])]) if (targets[id]) out.targets.push(targets[id]);
  if (out.targets.length === 0) return null;
  // The route's timeout wins; without one, the resolver's (nanoseconds in the compiled chain).
  if (out.requestTimeoutMs === 0 && resolver.RequestTimeout) out.requestTimeoutMs = resolver.RequestTimeout / 1e6;
  if (routeOps.request) out.requestHeaders.push(routeOps.request);
  if (routeOps.response) out.responseHeaders.push(routeOps.response);
  return out;
}

/** Applies `ops` to a header map (lower-case names) in place: Remove, then Set, then Add. */
export function applyHeaderOps(headers: Record<string, string | string[] | undefined>, ops: HeaderOps[]): void {
  for (const op of ops) {
    for (const name of op.Remove ?? []) delete headers[name.toLowerCase()];
    for (const [name, value] of Object.entries(op.Set ?? {})) headers[name.toLowerCase()] = String(value);
    for (const [name, value] of Object.entries(op.Add ?? {})) {
      const k = name.toLowerCase();
      const prev = headers[k];
      headers[k] = prev === undefined ? String(value) : [...(Array.isArray(prev) ? prev : [prev]), String(value)];
    }
  }
}
