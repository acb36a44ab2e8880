// Cross-datacenter forwarding (Consul's forwardDC): a request whose `?dc=` names another
// datacenter is sent over the internal RPC to a server of that datacenter found in the WAN pool,
// moving on to the next one when a server cannot be reached; a datacenter with no known server is
// `No path to datacenter` (500). Agent endpoints and the WAN-wide listings ignore `?dc`. A prepared
// query read keeps its Agent and Source there: the asking agent (a client's, else this server) and
// the caller's address.
import { errNoPathToDatacenter } from '../errors.ts';
import { QUERY_AGENT_HEADER, sourceAddr, type Handler, type HttpRequest, type Router } from '../http/index.ts';
import type { Forwarder } from './forward.ts';

/** Routes answered by this agent whatever `?dc` says (agent endpoints and the WAN-wide views). */
const LOCAL_ROUTES = [/^\/v1\/agent\//, /^\/v1\/catalog\/datacenters$/, /^\/v1\/coordinate\/datacenters$/, /^\/v1\/event\/list$/, /^\/v1\/operator\/keyring$/];

/** True when a request to `path` with `?dc=` follows the datacenter. */
export function followsDatacenter(path: string): boolean {
  return !LOCAL_ROUTES.some((r) => r.test(path));
}

/** Where the servers of each datacenter answer. */
export interface DatacenterRoutes {
  /** Internal RPC addresses of `dc`'s alive servers, in the order to try them (empty: no path). */
  rpcAddresses(dc: string): string[];
}

/** What forwarding needs. */
export interface DcForwardingDeps {
  datacenter: string;
  /** This agent's node name: the agent of prepared query reads asked here (Consul's Agent.Node). */
  nodeName: string;
  routes: DatacenterRoutes;
  forwarder: Forwarder;
  /** The agent's default token, sent when the caller gave none. */
  defaultToken: () => string;
}

/** Wraps a route table: matched handlers forward requests for another datacenter instead of answering them. */
export function forwardingRouter(router: Pick<Router, 'match' | 'list'>, d: DcForwardingDeps): Pick<Router, 'match' | 'list'> {
  return {
    list: () => router.list(),
    match(method, path) {
      const m = router.match(method, path);
      if (!m || !followsDatacenter(path)) return m;
      const handler: Handler = (req) => {
        const dc = req.query.get('dc');
        return dc && dc !== d.datacenter ? forwardToDatacenter(d, dc)(req) : m.handler(req);
      };
      return { ...m, handler };
    },
  };
}

/** The handler that sends a request to `dc`; throws `No path to datacenter` when no server of it is known. */
export function forwardToDatacenter(d: DcForwardingDeps, dc: string): Handler {
  return async (req) => {
    const servers = d.routes.rpcAddresses(dc);
    if (servers.length === 0) throw errNoPathToDatacenter();
    return d.forwarder.handler({ servers: () => servers, datacenter: dc }, { defaultToken: d.defaultToken })(withQuerySource(req, d.nodeName));
  };
}

/**
 * A prepared query read as Consul's forwarded PreparedQuery.Execute carries it: the agent a
 * client named, else this one, and the caller's address as this server read it (the remote server
 * would see this server's); other requests unchanged.
 */
function withQuerySource(req: HttpRequest, nodeName: string): HttpRequest {
  if (!req.path.startsWith('/v1/query/')) return req;
  const ip = sourceAddr(req);
  const { 'x-forwarded-for': _xff, ...headers } = req.headers;
  const agent = typeof headers[QUERY_AGENT_HEADER] === 'string' && headers[QUERY_AGENT_HEADER] ? headers[QUERY_AGENT_HEADER] : nodeName;
  // The transport's request has its signal, aborts and body() on its prototype, which a spread
  // does not copy (http/request.ts): without them a PUT or DELETE /v1/query/<id>?dc= had no body().
  return {
    ...req, headers: { ...headers, [QUERY_AGENT_HEADER]: agent, ...(ip ? { 'x-forwarded-for': ip } : {}) },
    get signal() { return req.signal; },
    get aborts() { return req.aborts; },
    body: (limit, tooLarge) => req.body(limit, tooLarge),
  };
}
