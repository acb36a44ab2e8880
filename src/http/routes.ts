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
  catalog: {
    register: Handler; deregister: Handler; datacenters: Handler; nodes: Handler; services: Handler;
    service: Handler; connect: Handler; node: Handler; nodeServices: Handler;
  };
  health: { node: Handler; checks: Handler; state: Handler; service: Handler; connect: Handler };
  observe: { metrics: Handler; monitor: Handler; host: Handler };
  event: { fire: Handler; list: Handler };
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
    .route('PUT', '/v1/catalog/register', h.catalog.register)
    .route('PUT', '/v1/catalog/deregister', h.catalog.deregister)
    .route('GET', '/v1/catalog/datacenters', h.catalog.datacenters)
    .route('GET', '/v1/catalog/nodes', h.catalog.nodes)
    .route('GET', '/v1/catalog/services', h.catalog.services)
    .route('GET', '/v1/catalog/service/*', h.catalog.service)
    .route('GET', '/v1/catalog/connect/*', h.catalog.connect)
    .route('GET', '/v1/catalog/node/*', h.catalog.node)
    .route('GET', '/v1/catalog/node-services/*', h.catalog.nodeServices)
    .route('GET', '/v1/health/node/*', h.health.node)
    .route('GET', '/v1/health/checks/*', h.health.checks)
    .route('GET', '/v1/health/state/*', h.health.state)
    .route('GET', '/v1/health/service/*', h.health.service)
    .route('GET', '/v1/health/connect/*', h.health.connect)
    .route('GET', '/v1/status/leader', h.status.leader)
    .route('GET', '/v1/status/peers', h.status.peers)
    .route('GET', '/v1/agent/self', h.agent.self)
    .route('GET', '/v1/agent/version', h.agent.version)
    .route('GET', '/v1/agent/metrics', h.observe.metrics)
    .route('GET', '/v1/agent/monitor', h.observe.monitor)
    .route('GET', '/v1/agent/host', h.observe.host)
    .route('PUT', '/v1/event/fire/*', h.event.fire)
    .route('GET', '/v1/event/list', h.event.list)
    .route('GET', '/v1/connect/ca/roots', h.connect.roots)
    .route('GET', '/v1/agent/connect/ca/roots', h.connect.roots);
}
