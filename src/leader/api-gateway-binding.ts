// What Consul's API gateway controller computes (agent/consul/gateways/controller_gateways.go):
// each api-gateway's and route's Status conditions (Accepted, ResolvedRefs, Conflicted, Bound,
// with Consul's Type/Status/Reason/Message) and the bound-api-gateway entry listing, per
// listener, the routes and certificates bound to it. Pure: entries in, desired state out.

type Obj = Record<string, unknown>;

/** Consul's ResourceReference as conditions and bound entries render it. */
export interface ResourceRef {
  Kind: string;
  Name: string;
  SectionName: string;
}

/** One status condition (structs.Condition). */
export interface Condition {
  Type: string;
  Status: 'True' | 'False' | 'Unknown';
  Reason: string;
  Message: string;
  Resource: ResourceRef;
  LastTransitionTime: string;
}

/** One listener of a bound-api-gateway entry. */
export interface BoundListener {
  Name: string;
  Routes: ResourceRef[] | null;
  Certificates: ResourceRef[] | null;
}

/** The bound-api-gateway entry's fields (the controller's own record). */
export interface BoundGateway {
  Kind: 'bound-api-gateway';
  Name: string;
  Listeners: BoundListener[];
  Services: Record<string, ResourceRef[]>;
}

/** What the controller reads. */
export interface BindingInput {
  gateways: readonly Obj[];
  httpRoutes: readonly Obj[];
  tcpRoutes: readonly Obj[];
  /** Whether a certificate entry of that kind and name exists. */
  certificateExists(kind: string, name: string): boolean;
  /** The protocol of `service`'s discovery chain; throws the compiler's error when it does not compile. */
  chainProtocol(service: string): string;
  /** The time new conditions carry. */
  now: string;
}

/** What the entries' statuses and the bound entries should be. */
export interface BindingResult {
  /** Conditions by `kind/name` of each api-gateway, http-route and tcp-route. */
  statuses: Map<string, Condition[]>;
  /** bound-api-gateway entries by gateway name. */
  bound: Map<string, BoundGateway>;
}

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const ref = (Kind: string, Name: string, SectionName = ''): ResourceRef => ({ Kind, Name, SectionName });
const EMPTY = ref('', '');
const HTTP_LIKE = new Set(['http', 'http2', 'grpc']);

/** Consul's APIGatewayListenerProtocolsCompatible: equal, or both HTTP-based. */
export function protocolsCompatible(a: string, b: string): boolean {
  return a === b || (HTTP_LIKE.has(a) && HTTP_LIKE.has(b));
}

/** Go's RFC3339Nano rendering of a time (fraction without trailing zeros). */
export function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z');
}

/** A condition list being built: setting a condition of the same Type and Resource replaces it in place (Consul's SetCondition). */
class Conditions {
  readonly list: Condition[] = [];
  readonly now: string;
  constructor(now: string) {
    this.now = now;
  }
  set(Type: string, Status: Condition['Status'], Reason: string, Message: string, Resource: ResourceRef = EMPTY): void {
    const c: Condition = { Type, Status, Reason, Message, Resource: { ...Resource }, LastTransitionTime: this.now };
    const i = this.list.findIndex((x) => x.Type === Type && sameRef(x.Resource, Resource));
    if (i >= 0) this.list[i] = c;
    else this.list.push(c);
  }
  has(Type: string, Status: Condition['Status'], Resource: ResourceRef = EMPTY): boolean {
    return this.list.some((x) => x.Type === Type && x.Status === Status && sameRef(x.Resource, Resource));
  }
}

function sameRef(a: ResourceRef | null | undefined, b: ResourceRef | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.Kind === b.Kind && a.Name === b.Name && (a.SectionName ?? '') === (b.SectionName ?? '');
}

/** Consul's Status.SameConditions: the same conditions in any order, LastTransitionTime aside. */
export function sameConditions(a: readonly Condition[] | null | undefined, b: readonly Condition[] | null | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  return x.every((c) => y.some((d) => c.Type === d.Type && sameRef(c.Resource, d.Resource) && c.Status === d.Status && c.Reason === d.Reason && c.Message === d.Message));
}

/** The service names a route targets (GetServiceNames). */
function routeServices(kind: string, r: Obj): string[] {
  if (kind === 'tcp-route') return list(r.Services).map((s) => str(s.Name));
  return list(r.Rules).flatMap((rule) => list(rule.Services).map((s) => str(s.Name)));
}

/** A gateway's listeners by name with their bound state (gatewayMeta). */
interface GatewayMeta {
  name: string;
  listeners: Obj[];
  bound: BoundGateway;
  accepted: boolean;
}

/** reconcileGateway's own part: listener refs resolved, certificates found, Accepted. */
function gatewayConditions(g: Obj, input: BindingInput, c: Conditions): GatewayMeta {
  const name = str(g.Name);
  const listeners = list(g.Listeners);
  const bound: BoundGateway = {
    Kind: 'bound-api-gateway', Name: name, Services: {},
    Listeners: listeners.map((l) => ({ Name: str(l.Name), Routes: null, Certificates: null })),
  };
  const errors: [ResourceRef, string][] = [];
  listeners.forEach((l, i) => {
    for (const cert of list((l.TLS as Obj | undefined)?.Certificates)) {
      const kind = str(cert.Kind) || 'inline-certificate';
      if (input.certificateExists(kind, str(cert.Name))) {
        (bound.Listeners[i].Certificates ??= []).push(ref(kind, str(cert.Name), str(cert.SectionName)));
      } else {
        errors.push([ref('api-gateway', name, str(l.Name)), `certificate ${JSON.stringify(str(cert.Name))} not found`]);
      }
    }
  });
  for (const l of listeners) c.set('ResolvedRefs', 'True', 'ResolvedRefs', 'resolved refs', ref('api-gateway', name, str(l.Name)));
  for (const [r, msg] of errors) c.set('ResolvedRefs', 'False', 'InvalidCertificateRef', msg, r);
  if (errors.length > 0) c.set('Accepted', 'False', 'InvalidCertificates', 'gateway references invalid certificates');
  else c.set('Accepted', 'True', 'Accepted', 'gateway is valid');
  return { name, listeners, bound, accepted: errors.length === 0 };
}

/** reconcileRoute's Accepted: each service's chain protocol against the route's (the last service's verdict stands, as Consul sets one condition). */
function routeAccepted(kind: string, r: Obj, input: BindingInput, c: Conditions): boolean {
  const protocol = kind === 'tcp-route' ? 'tcp' : 'http';
  const services = routeServices(kind, r);
  for (const s of services) {
    let chain: string;
    try {
      chain = input.chainProtocol(s);
    } catch (err) {
      c.set('Accepted', 'False', 'InvalidDiscoveryChain', (err as Error).message);
      continue;
    }
    if (!protocolsCompatible(chain, protocol)) c.set('Accepted', 'False', 'InvalidDiscoveryChain', 'route protocol does not match targeted service protocol');
    else c.set('Accepted', 'True', 'Accepted', 'route is valid');
  }
  if (services.length === 0) c.set('Accepted', 'False', 'NoUpstreamServicesTargeted', 'route must target at least one upstream service');
  return c.has('Accepted', 'True');
}

/**
 * Whether an http-route's hostnames meet a listener's (Consul's FilteredHostnames is not empty): a route
 * without hostnames meets any listener; a listener without one is `*`; a wildcard listener takes the
 * hostnames ending in its suffix, another only its own name.
 */
function hostnamesMeet(routeHostnames: unknown, listenerHostname: string): boolean {
  const hosts = list(routeHostnames) as unknown as string[];
  if (hosts.length === 0) return true;
  const name = listenerHostname || '*';
  const wildcard = name.includes('*');
  const suffix = name.replace(/^\*/, '').replace(/^\./, '');
  return hosts.some((h) => typeof h === 'string' && (wildcard ? h.endsWith(suffix) : h === suffix));
}

/** updateRouteBinding + bindRoute for one route against every gateway; sets its Bound conditions. */
function bindRoute(kind: string, r: Obj, accepted: boolean, gateways: Map<string, GatewayMeta>, c: Conditions): void {
  const name = str(r.Name);
  const protocol = kind === 'tcp-route' ? 'tcp' : 'http';
  const routeRef = ref(kind, name);
  const bound: ResourceRef[] = [];
  const errors = new Map<string, [ResourceRef, string]>();
  const parents = list(r.Parents).map((p) => ref(str(p.Kind) || 'api-gateway', str(p.Name), str(p.SectionName)));
  for (const parent of parents) {
    const g = parent.Kind === 'api-gateway' ? gateways.get(parent.Name) : undefined;
    if (!g) continue;
    const key = JSON.stringify(parent);
    if (g.listeners.length === 0) {
      errors.set(key, [parent, 'route cannot bind because gateway has no listeners']);
      continue;
    }
    let didBind = false;
    g.listeners.forEach((l, i) => {
      const lname = str(l.Name);
      if (parent.SectionName && parent.SectionName !== lname) return;
      let err: string | null = null;
      if (!g.accepted) err = `failed to bind route to gateway ${g.name}: gateway has not been accepted`;
      else if (!accepted) err = `failed to bind route to gateway ${g.name}: route has not been accepted`;
      else if (kind === 'http-route' && !hostnamesMeet(r.Hostnames, str(l.Hostname))) {
        err = `failed to bind route to gateway ${g.name}: listener ${lname} is does not have any hostnames that match the route`;
      } else if (protocolsCompatible(str(l.Protocol), protocol)) {
        const routes = g.bound.Listeners[i].Routes ??= [];
        if (!routes.some((x) => sameRef(x, routeRef))) routes.push({ ...routeRef });
        didBind = true;
      } else if (parent.SectionName) {
        err = `failed to bind route ${name} to gateway ${g.name}: listener ${lname} is not a ${protocol} listener`;
      }
      if (err) errors.set(key, [parent, err]);
    });
    if (!didBind && !errors.has(key)) errors.set(key, [parent, `failed to bind route ${name} to gateway ${g.name} with listener '${parent.SectionName}'`]);
    if (didBind) {
      for (const s of routeServices(kind, r)) {
        const refs = g.bound.Services[s] ??= [];
        if (!refs.some((x) => sameRef(x, routeRef))) refs.push({ ...routeRef });
      }
      bound.push(parent);
    }
  }
  for (const p of bound) c.set('Bound', 'True', 'Bound', 'successfully bound route', p);
  for (const [p, msg] of errors.values()) c.set('Bound', 'False', 'FailedToBind', msg, p);
  for (const p of parents) {
    if (bound.some((b) => sameRef(b, p)) || errors.has(JSON.stringify(p))) continue;
    c.set('Bound', 'False', 'GatewayNotFound', 'gateway was not found', p);
  }
}

/** Every gateway's and route's conditions and every gateway's bound entry, as the controller settles them. */
export function computeBindings(input: BindingInput): BindingResult {
  const statuses = new Map<string, Condition[]>();
  const gateways = new Map<string, GatewayMeta>();
  const gatewayConds = new Map<string, Conditions>();
  for (const g of input.gateways) {
    const c = new Conditions(input.now);
    const meta = gatewayConditions(g, input, c);
    gateways.set(meta.name, meta);
    gatewayConds.set(meta.name, c);
  }
  const routes: [string, Obj][] = [
    ...[...input.httpRoutes].sort(byName).map((r): [string, Obj] => ['http-route', r]),
    ...[...input.tcpRoutes].sort(byName).map((r): [string, Obj] => ['tcp-route', r]),
  ];
  for (const [kind, r] of routes) {
    const c = new Conditions(input.now);
    const accepted = routeAccepted(kind, r, input, c);
    bindRoute(kind, r, accepted, gateways, c);
    statuses.set(`${kind}/${str(r.Name)}`, c.list);
  }
  // setConflicts: a tcp listener takes one route.
  for (const g of gateways.values()) {
    const c = gatewayConds.get(g.name)!;
    g.listeners.forEach((l, i) => {
      const r = ref('api-gateway', g.name, str(l.Name));
      if (str(l.Protocol) === 'tcp' && (g.bound.Listeners[i].Routes?.length ?? 0) > 1) {
        c.set('Conflicted', 'True', 'RouteConflict', 'TCP-based listeners currently only support binding a single route', r);
      } else {
        c.set('Conflicted', 'False', 'NoConflict', 'listener has no route conflicts', r);
      }
    });
    statuses.set(`api-gateway/${g.name}`, c.list);
  }
  return { statuses, bound: new Map([...gateways.values()].map((g) => [g.name, g.bound])) };
}

const byName = (a: Obj, b: Obj): number => (str(a.Name) < str(b.Name) ? -1 : str(a.Name) > str(b.Name) ? 1 : 0);

/** Consul's BoundAPIGatewayConfigEntry.IsSame: the same listeners (routes and certificates in any order) and services. */
export function sameBound(a: Obj | undefined, b: BoundGateway): boolean {
  if (!a) return false;
  const la = list(a.Listeners);
  if (la.length !== b.Listeners.length) return false;
  const sameSet = (x: unknown, y: ResourceRef[] | null) => {
    const xs = list(x) as unknown as ResourceRef[];
    const ys = y ?? [];
    return xs.length === ys.length && xs.every((r) => ys.some((s) => sameRef(r, s)));
  };
  for (const l of b.Listeners) {
    const o = la.find((x) => str(x.Name) === l.Name);
    if (!o || !sameSet(o.Routes, l.Routes) || !sameSet(o.Certificates, l.Certificates)) return false;
  }
  const sa = (a.Services ?? {}) as Record<string, ResourceRef[]>;
  const keys = Object.keys(b.Services);
  if (Object.keys(sa).length !== keys.length) return false;
  return keys.every((k) => Array.isArray(sa[k]) && sa[k].length === b.Services[k].length && sa[k].every((r, i) => sameRef(r, b.Services[k][i])));
}
