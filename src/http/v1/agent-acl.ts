// PUT /v1/agent/acl/enable (beyond Consul): turns ACLs on in a running agent with default_policy
// deny. Only callers on the agent's own host may ask; once ACLs are on it changes nothing.
import { permissionDenied } from '../../acl/index.ts';
import type { HttpResult } from '../router.ts';
import { checkDatacenter, type HttpRequest, type RequestConfig } from '../request.ts';

/** The agent's ACL switch as the handler sees it. */
export interface AgentAclDeps {
  enable(): Promise<unknown>;
  /** Whether a peer address is this host. */
  isLocal(remoteAddr: string): boolean;
}

/** Handlers for the agent ACL routes. */
export function agentAclHandlers(deps: AgentAclDeps, cfg: RequestConfig) {
  return {
    async enable(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      // With ACLs off every caller could already do anything; the loopback rule keeps a remote
      // caller from locking everyone else out.
      if (!deps.isLocal(req.remoteAddr)) throw permissionDenied('ACLs can only be enabled from the agent\'s own host');
      return { body: await deps.enable() };
    },
  };
}
