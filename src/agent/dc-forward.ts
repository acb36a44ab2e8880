// Cross-datacenter forwarding (Consul's forwardDC): a request whose `?dc=` names another
// datacenter is sent over the internal RPC to a server of that datacenter found in the WAN pool,
// moving on to the next one when a server cannot be reached; a datacenter with no known server is
// `No path to datacenter` (500). Agent endpoints and the WAN-wide listings ignore `?dc`.
import { errNoPathToDatacenter } from '../errors.ts';
import type { Handler, Router } from '../http/index.ts';
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
    return d.forwarder.handler({ servers: () => servers, datacenter: dc }, { defaultToken: d.defaultToken })(req);
  };
}
