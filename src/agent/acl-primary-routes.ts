// Where a secondary datacenter's ACL requests are answered (Consul's ACL endpoints): policies and
// roles are written in the primary only; global tokens likewise, local tokens here; without token
// replication every token operation goes to the primary (local tokens are then disabled) and auth
// methods, binding rules and login need it; bootstrap belongs to the primary.
import { InternalError, UnauthorizedError } from '../errors.ts';
import { parseToken, type Handler, type HttpRequest, type HttpResult, type RequestConfig, type Router } from '../http/index.ts';
import type { AclTables } from '../state/index.ts';
import type { MessageHandler } from './dc-dns.ts';
import { forwardToPrimary, withBody, type PrimaryForwardDeps } from './primary-forward.ts';

/** Consul's errAuthMethodsRequireTokenReplication. */
export const AUTH_METHODS_NEED_TOKEN_REPLICATION = 'Token replication is required for auth methods to function';

/** What routing a secondary's ACL requests needs. */
export interface AclPrimaryRoutesDeps extends PrimaryForwardDeps {
  /** Whether ACLs are enforced now (they can be turned on at runtime). */
  enabled: () => boolean;
  /** Consul's LocalTokensEnabled: token replication is on (with a replication token), so this datacenter keeps tokens. */
  localTokens: () => boolean;
  acl: () => AclTables;
  /** The leader's internal RPC address when another server of this datacenter leads ('' when this one does or none is known). */
  otherLeader?: () => string;
}

/** Where a request is answered: here, in the primary, or decided by a look at the request. */
type Route = 'primary' | 'local' | ((req: HttpRequest, local: Handler) => Promise<HttpResult>);

const AUTH_ROUTES = /^\/v1\/acl\/(auth-methods?|binding-rules?|login|logout)(\/|$)/;

/** Wraps the route table of a secondary datacenter's server so ACL requests go where Consul sends them. */
export function aclPrimaryRouter(router: Pick<Router, 'match' | 'list'>, d: AclPrimaryRoutesDeps): Pick<Router, 'match' | 'list'> {
  return {
    list: () => router.list(),
    match(method, path) {
      const m = router.match(method, path);
      if (!m || !path.startsWith('/v1/acl/')) return m;
      const handler: Handler = async (req) => {
        if (!d.enabled()) return m.handler(req);
        const route = aclRoute(d, method, path);
        if (route === 'local') return m.handler(req);
        if (route === 'primary') return forwardToPrimary(d, req);
        return route(req, m.handler);
      };
      return { ...m, handler };
    },
  };
}

/** Where one ACL request is answered: here, in the primary, or decided by the request itself. */
export function aclRoute(d: AclPrimaryRoutesDeps, method: string, path: string): Route {
  // The replication status is the leader's (Consul's ACL.ReplicationStatus is forwarded there).
  if (path === '/v1/acl/replication') return leaderRoute(d);
  if (path === '/v1/acl/bootstrap') return async () => { throw new UnauthorizedError(); };
  if (method !== 'GET' && /^\/v1\/acl\/(policy|role)(\/|$)/.test(path)) return 'primary';
  if (AUTH_ROUTES.test(path)) {
    if (!d.localTokens()) return async () => { throw new InternalError(AUTH_METHODS_NEED_TOKEN_REPLICATION); };
    return 'local';
  }
  if (path !== '/v1/acl/tokens' && !/^\/v1\/acl\/token(\/|$)/.test(path)) return 'local';
  if (method === 'GET') return d.localTokens() ? 'local' : 'primary';
  if (method === 'PUT' && !path.endsWith('/clone')) return tokenWrite(d);
  if (!d.localTokens()) return 'primary';
  // A clone or delete of a global token (or of one not known here) is the primary's.
  const accessor = path.slice('/v1/acl/token/'.length).replace(/\/clone$/, '');
  const t = d.acl().tokens.get(accessor);
  if (method === 'PUT') return t && !t.Local ? 'primary' : 'local';
  return t?.Local ? 'local' : 'primary';
}

function leaderRoute(d: AclPrimaryRoutesDeps): Route {
  const leader = d.otherLeader?.() ?? '';
  if (!leader) return 'local';
  return (req) => d.dc.forwarder.handler({ servers: () => [leader] })(req);
}

// A token create or update: global tokens are written in the primary, local ones here when local tokens are enabled.
function tokenWrite(d: AclPrimaryRoutesDeps): Route {
  return async (req, local) => {
    const body = await req.body();
    if (!localFlag(body)) return forwardToPrimary(d, req, body);
    if (!d.localTokens()) throw new InternalError('Local tokens are disabled');
    return local(withBody(req, body));
  };
}

/** The body's `Local` field (keys matched case-insensitively, as Go's decoder does); false when unreadable. */
export function localFlag(body: Buffer): boolean {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
    const key = Object.keys(v).find((k) => k.toLowerCase() === 'local');
    return key !== undefined && (v as Record<string, unknown>)[key] === true;
  } catch {
    return false;
  }
}

/** Wraps a route table so the caller's token is readied first (a secondary resolves secrets it does not hold in the primary). */
export function preparingRouter(
  router: Pick<Router, 'match' | 'list'>, cfg: RequestConfig, prepare: (secret: string) => Promise<void>,
): Pick<Router, 'match' | 'list'> {
  return {
    list: () => router.list(),
    match(method, path) {
      const m = router.match(method, path);
      if (!m) return m;
      const handler: Handler = async (req) => {
        await prepare(parseToken(req, cfg));
        return m.handler(req);
      };
      return { ...m, handler };
    },
  };
}

/** What readying a DNS asker's token needs (the agent's token resolver). */
export interface TokenReadier {
  /** Whether the secret resolves now without asking the primary. */
  ready(secret: string): boolean;
  prepare(secret: string): Promise<void>;
}

/**
 * Wraps a DNS handler so the asker's token (`token()`) is resolved before the question is answered:
 * a secondary datacenter asks the primary for a secret it does not hold and waits, as Consul's
 * resolver does, instead of answering the first question under the default policy.
 */
export function preparingDns(h: MessageHandler, token: () => string, acl: TokenReadier): MessageHandler {
  return {
    answerNow: (msg, transport) => (acl.ready(token()) ? h.answerNow(msg, transport) : undefined),
    async handle(msg, transport, source, agentNode, agentDatacenter) {
      const secret = token();
      if (!acl.ready(secret)) await acl.prepare(secret);
      return h.handle(msg, transport, source, agentNode, agentDatacenter);
    },
  };
}
