// ACL requirements of the agent-level routes whose handlers live outside the endpoint layer
// (Consul's agent_endpoint.go checks): agent:read for self, metrics (and its stream) and monitor, agent:write for
// reload, leave and join, acl:write for runtime tokens, operator:read for host, operator:write for
// force-leave; members filtered by node:read.
import type { AuthorizerMethod } from '../acl/index.ts';
import { allowed, authorize } from '../endpoint/index.ts';
import { authzOf, type Handler, type HttpResult, type HttpRequest, type RequestConfig, type RouteHandlers } from '../http/index.ts';

function guard(h: Handler, cfg: RequestConfig, method: AuthorizerMethod, name: string): Handler {
  return async (req: HttpRequest) => {
    authorize(authzOf(req, cfg), method, name);
    return h(req);
  };
}

// Consul filters the member list by node:read and reports the filtering.
function membersFiltered(h: Handler, cfg: RequestConfig): Handler {
  return async (req: HttpRequest): Promise<HttpResult> => {
    const id = authzOf(req, cfg);
    const res = await h(req);
    if (!id || !Array.isArray(res.body)) return res;
    const kept = (res.body as { Name: string }[]).filter((m) => allowed(id, 'nodeRead', m.Name.split('.')[0]));
    const headers: Record<string, string> = kept.length !== res.body.length && id.tokenGiven ? { 'X-Consul-Results-Filtered-By-ACLs': 'true' } : {};
    return { ...res, body: kept, headers: { ...res.headers, ...headers } };
  };
}

/** Returns the handlers with the agent-level ACL checks wrapped around them. */
export function guardAgentRoutes(h: RouteHandlers, cfg: RequestConfig, nodeName: string): RouteHandlers {
  return {
    ...h,
    agent: { ...h.agent, self: guard(h.agent.self, cfg, 'agentRead', nodeName) },
    observe: {
      ...h.observe,
      metrics: guard(h.observe.metrics, cfg, 'agentRead', nodeName),
      metricsStream: guard(h.observe.metricsStream, cfg, 'agentRead', nodeName),
      monitor: guard(h.observe.monitor, cfg, 'agentRead', nodeName),
      host: guard(h.observe.host, cfg, 'operatorRead', ''),
    },
    agentControl: {
      ...h.agentControl,
      reload: guard(h.agentControl.reload, cfg, 'agentWrite', nodeName),
      leave: guard(h.agentControl.leave, cfg, 'agentWrite', nodeName),
      token: guard(h.agentControl.token, cfg, 'aclWrite', ''),
    },
    members: {
      members: membersFiltered(h.members.members, cfg),
      join: guard(h.members.join, cfg, 'agentWrite', nodeName),
      forceLeave: guard(h.members.forceLeave, cfg, 'operatorWrite', ''),
    },
  };
}
