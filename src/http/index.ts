// Public surface of the HTTP transport.
export { HttpServer, cleanPath, type InjectRequest, type InjectResponse, type HttpServerConfig } from './server.ts';
export { buildRoutes, type RouteHandlers } from './routes.ts';
export { Router, type Handler, type HttpResult } from './router.ts';
export { kvHandlers, toKVPair } from './v1/kv.ts';
export { txnHandlers } from './v1/txn.ts';
export { statusHandlers } from './v1/status.ts';
export { agentSelfHandlers, agentStats, localMember } from './v1/agent.ts';
export { connectHandlers } from './v1/connect.ts';
export { sessionHandlers, decodeSessionCreate } from './v1/session.ts';
export { catalogHandlers, healthHandlers, decodeRegister, catalogFilters } from './v1/catalog.ts';
export { observeHandlers, hostInfo, type ObserveDeps } from './v1/agent-observe.ts';
export { eventHandlers } from './v1/event.ts';
export { agentServiceHandlers, agentService, contentHash, aggregatedStatus, type AgentLocalConfig } from './v1/agent-services.ts';
export { agentCheckHandlers } from './v1/agent-checks.ts';
export { agentControlHandlers, type AgentControlDeps } from './v1/agent-control.ts';
export { aclTokenHandlers, type AclHandlerDeps } from './v1/acl.ts';
export { aclPolicyHandlers, aclAuthHandlers } from './v1/acl-policies.ts';
export { authzOf, parseToken, type HttpRequest, type RequestConfig } from './request.ts';
