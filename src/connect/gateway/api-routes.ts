// What an API gateway serves, from its api-gateway entry and the routes and certificates in the
// catalog of config entries, as Consul binds and synthesizes them (agent/consul/gateways,
// discoverychain/gateway_httproute.go): routes bind to the listeners their Parents name (every
// listener of the gateway without a SectionName) when the protocols agree and, for http, the
// hostnames meet; each match of an http-route rule becomes a route, ordered by Consul's
// precedence (longer path, more header matches, more query matches) within its hostname; a rule's
// services are a weighted split; a tcp listener forwards to its route's one service. A route the
// leader's controller did not accept (Status) binds nowhere.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { durationMs } from '../discovery-chain/index.ts';
import { retryPolicy, type HeaderOps, type RouteDecision } from '../proxy/l7-route.ts';
import { OPENSSL_CIPHERS } from '../../agent/tls.ts';
import { listenerTls, type ListenerTls } from './ingress-tls.ts';

/** A reference to another entry (Consul's ResourceReference). */
export interface EntryRef {
  Kind?: string;
  Name: string;
  SectionName?: string;
}

/** One listener of the api-gateway entry. */
export interface ApiListener {
  Name: string;
  Hostname?: string;
  Port: number;
  Protocol: string;
  TLS?: { Certificates?: EntryRef[] | null; MinVersion?: string; MaxVersion?: string; CipherSuites?: string[] | null } | null;
}

/** The api-gateway config entry, the fields the gateway reads. */
export interface ApiGatewayEntry {
  Listeners?: ApiListener[] | null;
  /** What the leader's controller judged (a gateway naming a certificate that does not exist is not accepted). */
  Status?: RouteStatus | null;
}

interface HeaderFilter { Add?: Record<string, string> | null; Set?: Record<string, string> | null; Remove?: string[] | null }
interface Filters {
  Headers?: HeaderFilter[] | null;
  URLRewrite?: { Path?: string } | null;
  RetryFilter?: { NumRetries?: number; RetryOn?: string[] | null; RetryOnStatusCodes?: number[] | null; RetryOnConnectFailure?: boolean } | null;
  TimeoutFilter?: { RequestTimeout?: number | string; IdleTimeout?: number | string } | null;
}
interface HttpMatch {
  Headers?: { Match: string; Name: string; Value?: string }[] | null;
  Method?: string;
  Path?: { Match: string; Value: string };
  Query?: { Match: string; Name: string; Value?: string }[] | null;
}
interface HttpService { Name: string; Weight?: number; Filters?: Filters; ResponseFilters?: { Headers?: HeaderFilter[] | null } }

/** The Status the API gateway controller writes on a route (its conditions). */
export interface RouteStatus {
  Conditions?: { Type: string; Status: string; Resource?: { Kind?: string; Name?: string } | null }[] | null;
}

/**
 * Whether the controller accepted the route (or gateway): not when its Accepted condition is False (a backend
 * whose discovery chain's protocol is not the route's, a chain that does not compile, no
 * service), as Consul's bindRoute refuses a route not accepted. A route the controller has not
 * judged yet is taken as accepted.
 */
export function routeAccepted(route: { Status?: RouteStatus | null }): boolean {
  return !(route.Status?.Conditions ?? []).some((c) => c.Type === 'Accepted' && c.Status === 'False' && !c.Resource?.Kind && !c.Resource?.Name);
}

/** An http-route config entry, the fields the gateway reads. */
export interface HttpRouteEntry {
  Status?: RouteStatus | null;
  Name: string;
  Parents?: EntryRef[] | null;
  Rules?: { Filters?: Filters; ResponseFilters?: { Headers?: HeaderFilter[] | null }; Matches?: HttpMatch[] | null; Services?: HttpService[] | null }[] | null;
  Hostnames?: string[] | null;
}

/** A tcp-route config entry, the fields the gateway reads. */
export interface TcpRouteEntry {
  Status?: RouteStatus | null;
  Name: string;
  Parents?: EntryRef[] | null;
  Services?: { Name: string }[] | null;
}

/** An inline-certificate (PEM) or file-system-certificate (file paths) entry. */
export interface CertificateEntry {
  Kind: string;
  Name: string;
  Certificate: string;
  PrivateKey: string;
}

/** One leg of a rule's split: the service, its weight and its own changes. */
export interface RouteService {
  name: string;
  weight: number;
  request: HeaderOps[];
  response: HeaderOps[];
  /** The URLRewrite path that replaces what the path match consumed. */
  rewrite?: string;
}

/** One match of a rule: a service-router shaped match (for matchRoute) and where it leads. */
export interface GatewayHttpRoute {
  route: string;
  match: { HTTP: Record<string, unknown> };
  services: RouteService[];
  /** The rule's RetryFilter and TimeoutFilter over the service chain's decision, if it has either. */
  adjust?: (decision: RouteDecision) => void;
}

/** Consul's applyHTTPRouteFilters: a RetryFilter replaces the route's retries, a TimeoutFilter its request timeout. */
function routeFilters(f: Filters | undefined): ((decision: RouteDecision) => void) | undefined {
  const retry = f?.RetryFilter;
  const timeoutMs = durationMs(f?.TimeoutFilter?.RequestTimeout);
  if (!retry && !timeoutMs) return undefined;
  const policy = retry && retryPolicy({
    NumRetries: retry.NumRetries ?? 0, RetryOnConnectFailure: retry.RetryOnConnectFailure === true,
    RetryOn: retry.RetryOn ?? [], RetryOnStatusCodes: retry.RetryOnStatusCodes ?? [],
  });
  return (decision) => {
    if (policy) decision.retry = policy;
    if (timeoutMs) decision.requestTimeoutMs = timeoutMs;
  };
}

/** A listener to run. */
export interface ApiListenerPlan {
  port: number;
  protocol: 'http' | 'tcp';
  tls: ListenerTls | null;
  /** http: the routes by hostname (`*` for any), in precedence order. */
  hosts: Map<string, GatewayHttpRoute[]>;
  /** tcp: the service. */
  tcpService?: string;
  /** The routes bound, `kind/name`. */
  routes: string[];
}

/** Whether `ref` names listener `l` of gateway `gateway`. */
function names(ref: EntryRef, gateway: string, l: ApiListener): boolean {
  return (ref.Kind ?? 'api-gateway') === 'api-gateway' && ref.Name === gateway && (!ref.SectionName || ref.SectionName === l.Name);
}

/** Consul's FilteredHostnames: the route's hostnames a listener with `listenerHost` serves (none: the listener's). */
export function filteredHostnames(routeHosts: readonly string[] | null | undefined, listenerHost: string | undefined): string[] {
  const lh = listenerHost || '*';
  if (!routeHosts?.length) return [lh];
  const wildcard = lh.includes('*');
  const bare = lh.replace(/^\*/, '').replace(/^\./, '');
  return routeHosts.filter((h) => (wildcard ? h.endsWith(bare) : h === bare));
}

/** Consul's httpRouteFiltersToServiceRouteHeaderModifier: the filters' changes as one set. */
function headerOps(filters: readonly HeaderFilter[] | null | undefined): HeaderOps | null {
  if (!filters?.length) return null;
  const out: Required<HeaderOps> = { Add: {}, Set: {}, Remove: [] };
  for (const f of filters) {
    Object.assign(out.Add, f.Add ?? {});
    Object.assign(out.Set, f.Set ?? {});
    out.Remove.push(...(f.Remove ?? []));
  }
  return out;
}

/** Two changes as Consul merges a rule's and its one service's: the service's values win. */
function mergeOps(rule: HeaderOps | null, svc: HeaderOps | null): HeaderOps[] {
  if (!rule || !svc) return [rule ?? svc].filter((o): o is HeaderOps => !!o);
  return [{ Add: { ...rule.Add, ...svc.Add }, Set: { ...rule.Set, ...svc.Set }, Remove: [...(rule.Remove ?? []), ...(svc.Remove ?? [])] }];
}

/** Consul's httpRouteMatchToServiceRouteHTTPMatch. */
function serviceRouteMatch(m: HttpMatch): { HTTP: Record<string, unknown> } {
  const http: Record<string, unknown> = {};
  const path = m.Path ?? { Match: 'prefix', Value: '/' };
  if (path.Match === 'exact') http.PathExact = path.Value;
  else if (path.Match === 'regex') http.PathRegex = path.Value;
  else http.PathPrefix = path.Value || '/';
  const field = (match: string) => ({ exact: 'Exact', prefix: 'Prefix', suffix: 'Suffix', regex: 'Regex' } as Record<string, string>)[match];
  http.Header = (m.Headers ?? []).map((h) => (h.Match === 'present' ? { Name: h.Name, Present: true } : { Name: h.Name, [field(h.Match) ?? 'Exact']: h.Value ?? '' }));
  http.QueryParam = (m.Query ?? []).map((q) => (q.Match === 'present' ? { Name: q.Name, Present: true } : { Name: q.Name, [field(q.Match) ?? 'Exact']: q.Value ?? '' }));
  if (m.Method) http.Methods = [m.Method];
  return { HTTP: http };
}

/** Consul's compareHTTPRules: the longer path value first, then more header matches, then more query matches. */
function precedence(a: GatewayHttpRoute, b: GatewayHttpRoute): number {
  const len = (r: GatewayHttpRoute) => String(r.match.HTTP.PathExact ?? r.match.HTTP.PathPrefix ?? r.match.HTTP.PathRegex ?? '').length;
  const count = (r: GatewayHttpRoute, f: string) => (r.match.HTTP[f] as unknown[]).length;
  return len(b) - len(a) || count(b, 'Header') - count(a, 'Header') || count(b, 'QueryParam') - count(a, 'QueryParam');
}

/** The routes of one http-route: one per match of each rule (a rule without matches: prefix `/`). */
export function compileHttpRoute(route: HttpRouteEntry): GatewayHttpRoute[] {
  const out: GatewayHttpRoute[] = [];
  for (const rule of route.Rules ?? []) {
    const reqOps = headerOps(rule.Filters?.Headers);
    const resOps = headerOps(rule.ResponseFilters?.Headers);
    const rewrite = rule.Filters?.URLRewrite?.Path || undefined;
    const list = (rule.Services ?? []).filter((s) => (s.Weight ?? 1) > 0);
    const services: RouteService[] = list.length === 1
      ? [{
        name: list[0].Name, weight: 1, request: mergeOps(reqOps, headerOps(list[0].Filters?.Headers)),
        response: mergeOps(resOps, headerOps(list[0].ResponseFilters?.Headers)),
        ...(list[0].Filters?.URLRewrite ? (list[0].Filters.URLRewrite.Path ? { rewrite: list[0].Filters.URLRewrite.Path } : {}) : rewrite ? { rewrite } : {}),
      }]
      // A split: each leg's own request changes first, then the rule's (which win, as Envoy ranks route over cluster).
      : list.map((s) => ({
        name: s.Name, weight: s.Weight ?? 1, request: [headerOps(s.Filters?.Headers), reqOps].filter((o): o is HeaderOps => !!o),
        response: resOps ? [resOps] : [], ...(rewrite ? { rewrite } : {}),
      }));
    if (services.length === 0) continue;
    const matches = rule.Matches?.length ? rule.Matches : [{}];
    const adjust = routeFilters(rule.Filters);
    for (const m of matches) out.push({ route: route.Name, match: serviceRouteMatch(m), services, ...(adjust ? { adjust } : {}) });
  }
  return out;
}

/** The names a certificate covers (its CN and DNS SANs); none when it does not parse. */
function certificateNames(pem: string): string[] {
  try {
    const c = new X509Certificate(pem);
    const cn = /^CN=(.*)$/m.exec(c.subject)?.[1];
    const sans = (c.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
    return [...(cn ? [cn] : []), ...sans];
  } catch {
    return [];
  }
}

/**
 * A listener's TLS: the certificates that resolve (Consul serves those), the first the default and
 * each chosen by the names it covers. A TLS block that is set (Consul's IsEmpty false: versions,
 * cipher suites or certificates) but whose certificates do not resolve serves the gateway's own
 * Connect leaf, as Consul's listener TLS context does; an empty one: null (no TLS).
 */
function planTls(l: ApiListener, certs: readonly CertificateEntry[], warn: (msg: string, name: string) => void, read: ReadFiles): ListenerTls | null {
  const block = l.TLS;
  const refs = block?.Certificates ?? [];
  if (refs.length === 0 && !block?.MinVersion && !block?.MaxVersion && !block?.CipherSuites?.length) return null;
  const pairs: { cert: string; key: string }[] = [];
  for (const ref of refs) {
    const kind = ref.Kind || 'inline-certificate';
    const c = certs.find((x) => x.Kind === kind && x.Name === ref.Name);
    if (!c) continue;
    try {
      pairs.push(kind === 'file-system-certificate' ? read(c) : { cert: c.Certificate, key: c.PrivateKey });
    } catch (err) {
      warn((err as Error).message, ref.Name);
    }
  }
  const versions = listenerTls(null, { Enabled: true, TLSMinVersion: block?.MinVersion, TLSMaxVersion: block?.MaxVersion })!;
  const ciphers = (block?.CipherSuites ?? []).map((c) => OPENSSL_CIPHERS[c]).filter((c): c is string => !!c);
  const t: ListenerTls = { ...versions, ...(ciphers.length ? { ciphers } : {}) };
  if (pairs.length === 0) {
    if (refs.length > 0) warn("no certificate of the listener resolves; it serves the gateway's Connect leaf", l.Name);
    return t;
  }
  const sni = pairs.length > 1 ? { sni: pairs.map((p) => ({ names: certificateNames(p.cert), ...p })) } : {};
  return { ...t, cert: pairs[0], ...sni };
}

/** Reads a file-system certificate's files (throws when it cannot). */
export type ReadFiles = (c: CertificateEntry) => { cert: string; key: string };

const readFiles: ReadFiles = (c) => ({ cert: readFileSync(c.Certificate, 'utf8'), key: readFileSync(c.PrivateKey, 'utf8') });

/** What the gateway reads to plan its listeners. */
export interface ApiGatewayState {
  gateway: string;
  entry: ApiGatewayEntry | null;
  httpRoutes: readonly HttpRouteEntry[];
  tcpRoutes: readonly TcpRouteEntry[];
  certificates: readonly CertificateEntry[];
}

/**
 * The listeners to run: one per port (Consul merges listeners on one port), with the routes bound
 * to any of them. A listener without a route is not run.
 */
export function planApiGateway(s: ApiGatewayState, warn: (msg: string, name: string) => void = () => {}, read: ReadFiles = readFiles): ApiListenerPlan[] {
  // A gateway the controller did not accept binds no route (Consul's bindRoute), so no listener runs.
  if (s.entry && !routeAccepted(s.entry)) return [];
  const byPort = new Map<number, ApiListenerPlan>();
  for (const l of s.entry?.Listeners ?? []) {
    const protocol = l.Protocol === 'tcp' ? 'tcp' : l.Protocol === 'http' ? 'http' : null;
    if (!protocol || !(l.Port > 0)) continue;
    const tls = planTls(l, s.certificates, warn, read);
    let plan = byPort.get(l.Port);
    if (plan && plan.protocol !== protocol) continue;
    if (!plan) byPort.set(l.Port, plan = { port: l.Port, protocol, tls, hosts: new Map(), routes: [] });
    if (protocol === 'tcp') {
      const bound = s.tcpRoutes.filter((r) => r.Services?.length && routeAccepted(r) && (r.Parents ?? []).some((p) => names(p, s.gateway, l)));
      // Consul marks such a listener Conflicted, and a conflicted listener is not served.
      if (bound.length > 1) {
        warn('TCP-based listeners currently only support binding a single route', l.Name);
        byPort.delete(l.Port);
        continue;
      }
      const route = bound[0];
      if (route && plan.tcpService === undefined) {
        plan.tcpService = route.Services![0].Name;
        plan.routes.push(`tcp-route/${route.Name}`);
      }
      continue;
    }
    for (const route of s.httpRoutes) {
      if (!(route.Parents ?? []).some((p) => names(p, s.gateway, l))) continue;
      // A route without a service is not accepted (Consul's routeNoUpstreams), so it binds nowhere.
      if (!(route.Rules ?? []).some((r) => r.Services?.length) || !routeAccepted(route)) continue;
      if (plan.routes.includes(`http-route/${route.Name}`)) continue;
      // Bound by parent and protocol alone (Consul's bindRoute); hostnames outside the listener's only serve nothing.
      plan.routes.push(`http-route/${route.Name}`);
      const hosts = filteredHostnames(route.Hostnames, l.Hostname);
      const compiled = compileHttpRoute(route);
      for (const h of hosts) plan.hosts.set(h, [...(plan.hosts.get(h) ?? []), ...compiled]);
    }
  }
  for (const p of byPort.values()) for (const [h, routes] of p.hosts) p.hosts.set(h, routes.sort(precedence));
  // Only listeners with a route bound run, as Consul makes Envoy listeners of its ready listeners (those with upstreams) only.
  return [...byPort.values()].filter((p) => p.routes.length > 0);
}
