// The whole HTTP surface in one table (Consul's http_register.go). Handlers come from the
// per-area factories in v1/; the composition root passes them in.
import { Router, type Handler } from './router.ts';

/** Every handler the table references, grouped by area. */
export interface RouteHandlers {
  kv: { get: Handler; put: Handler; delete: Handler };
  txn: { put: Handler };
  status: { leader: Handler; peers: Handler };
  agent: { self: Handler; version: Handler };
  connect: { roots: Handler };
  session: { create: Handler; destroy: Handler; renew: Handler; info: Handler; node: Handler; list: Handler };
}

/** Builds the route table. */
export function buildRoutes(h: RouteHandlers): Router {
  return new Router()
    .route('GET', '/v1/kv/*', h.kv.get)
    .route('PUT', '/v1/kv/*', h.kv.put)
    .route('DELETE', '/v1/kv/*', h.kv.delete)
    .route('PUT', '/v1/txn', h.txn.put)
    .route('PUT', '/v1/session/create', h.session.create)
    .route('PUT', '/v1/session/destroy/*', h.session.destroy)
    .route('PUT', '/v1/session/renew/*', h.session.renew)
    .route('GET', '/v1/session/info/*', h.session.info)
    .route('GET', '/v1/session/node/*', h.session.node)
    .route('GET', '/v1/session/list', h.session.list)
    .route('GET', '/v1/status/leader', h.status.leader)
    .route('GET', '/v1/status/peers', h.status.peers)
    .route('GET', '/v1/agent/self', h.agent.self)
    .route('GET', '/v1/agent/version', h.agent.version)
    .route('GET', '/v1/connect/ca/roots', h.connect.roots)
    .route('GET', '/v1/agent/connect/ca/roots', h.connect.roots);
}
