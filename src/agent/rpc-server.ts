// A server's internal RPC listener (DESIGN §6): HTTP/1.1 keep-alive on ports.server at the bind
// address, serving the same route table as the HTTP API plus the internal routes client agents
// need, e.g. DNS questions answered by this server's DnsHandler under the client's DNS token,
// and the election's liveness greeting that follower servers keep open to the leader. With
// tls.internal_rpc the port also takes TLS connections (rpc-listener.ts).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HttpServer, Router, type HttpRequest, type HttpResult, type HttpServerDeps } from '../http/index.ts';
import type { Logger } from '../log.ts';
import { HostnamesDelegated, RecursionDelegated } from '../dns/delegated.ts';
import type { DnsHandler } from '../dns/handler.ts';
import { DNS_CONFIG_HEADER } from '../dns/config-wire.ts';
import type { AclIdentity } from '../endpoint/index.ts';
import type { CASignRequest, SignedResponse } from '../endpoint/auto-encrypt.ts';
import type { ServiceLeaf } from '../endpoint/connect-ca-sign.ts';
import type { TokenSources } from '../endpoint/acl-sources.ts';
import type { ExplainSource, Policy } from '../acl/index.ts';
import type { ACLTokenRecord } from '../state/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { LIVENESS_PATH, type LivenessStream } from '../leader/liveness.ts';
import { RpcListener } from './rpc-listener.ts';
import { CONFIG_LIST_RPC_PATH } from './config-replication-source.ts';
import type { ServiceConfigSource } from './local/service-manager.ts';
import type { ServiceConfigRequest } from '../api/service-config-types.ts';
import { parseGoDuration } from '../duration.ts';
import type { TlsConfigurator } from './tls-configurator.ts';
import type { Telemetry } from '../telemetry/metrics.ts';

/** The route prefix reserved for agent-to-server calls. */
export const INTERNAL_RPC_PREFIX = '/v1/internal/rpc/';
/** Client agents post raw DNS messages here (`?transport=udp|tcp`, token in X-Consul-Token). */
export const DNS_RPC_PATH = `${INTERNAL_RPC_PREFIX}dns`;
/** Client agents fetch what a token grants here (X-Consul-Token), to authorize agent routes themselves. */
export const ACL_RPC_PATH = `${INTERNAL_RPC_PREFIX}acl/authorizer`;
/** Client agents with auto_encrypt.tls post their CSR here (Consul's AutoEncrypt.Sign), token in X-Consul-Token. */
export const AUTO_ENCRYPT_SIGN_PATH = `${INTERNAL_RPC_PREFIX}auto-encrypt/sign`;
/** Client agents post a service's CSR here (Consul's ConnectCA.Sign), token in X-Consul-Token. */
export const CONNECT_CA_SIGN_PATH = `${INTERNAL_RPC_PREFIX}connect-ca/sign`;
/** Secondary datacenters' servers post their intermediate CA CSR here (Consul's ConnectCA.SignIntermediate), replication token in X-Consul-Token. */
export const CONNECT_CA_SIGN_INTERMEDIATE_PATH = `${INTERNAL_RPC_PREFIX}connect-ca/sign-intermediate`;
/** Client agents resolve a proxy's central defaults here (Consul's ConfigEntry.ResolveServiceConfig), `?index=&wait=` blocking. */
export const SERVICE_CONFIG_RPC_PATH = `${INTERNAL_RPC_PREFIX}config/resolve-service`;
/** Set on a 204 answer to a client's DNS question the client's own recursors must answer. */
export const DNS_RECURSE_HEADER = 'X-Proconsul-Dns-Recurse';
/**
 * Sent by a client agent that resolves hostname addresses itself (with its own recursors), and set
 * on an answer that left them to it: the whole answer, written for TCP, for the client to complete.
 */
export const DNS_HOSTNAMES_HEADER = 'X-Proconsul-Dns-Hostnames';
/**
 * The asker's IP, sent by a client agent with a prepared-query question: the query runs near it
 * (Consul's Source.Ip) unless the question carries an EDNS0 client subnet.
 */
export const DNS_SOURCE_HEADER = 'X-Proconsul-Dns-Source';
/**
 * The asking client agent's node name, sent with its DNS questions: a prepared query whose Near is
 * `_agent` sorts by that node, as Consul's DNS passes its own agent (Agent.Node) to the servers.
 */
export const DNS_AGENT_HEADER = 'X-Proconsul-Dns-Agent';
/**
 * The asking agent's datacenter, sent with a question a server passes to another datacenter along
 * with the asker's IP and agent: Consul's PreparedQuery.Execute is forwarded there with the same
 * Agent and Source, and as the agent's datacenter is not the one executing, nothing is sorted by
 * distance there (coordinates are compared within a datacenter only).
 */
export const DNS_AGENT_DATACENTER_HEADER = 'X-Proconsul-Dns-Agent-Datacenter';
/** Content type of a raw DNS message (RFC 8484). */
export const DNS_MESSAGE_TYPE = 'application/dns-message';

const MAX_DNS_MESSAGE = 65_535;
const DNS_SOURCE_HEADER_LOWER = DNS_SOURCE_HEADER.toLowerCase();
const DNS_AGENT_HEADER_LOWER = DNS_AGENT_HEADER.toLowerCase();
const DNS_AGENT_DATACENTER_HEADER_LOWER = DNS_AGENT_DATACENTER_HEADER.toLowerCase();
const MAX_TOKEN_HANDLERS = 64;

/** What the listener serves. */
export interface RpcServerDeps {
  config: RuntimeConfig;
  /** The HTTP API's route table. */
  router: Pick<Router, 'match' | 'list'>;
  /** This server's DNS handler. */
  dns: Pick<DnsHandler, 'handle'>;
  /** The same handler answering under another ACL token. */
  dnsFor(token: string): Pick<DnsHandler, 'handle'>;
  /**
   * A handler answering under a client agent's DNS settings (config-wire.ts) and token, leaving
   * recursion to the client (it throws RecursionDelegated), and hostname addresses too when the
   * client resolves them (HostnamesDelegated); throws BadRequestError on bad settings.
   */
  dnsWith?(token: string, settings: string, clientHostnames: boolean): Pick<DnsHandler, 'handle'>;
  /** The replica's applied revision, sent with DNS answers as X-Consul-Index (a client's cache watches from it). */
  revision?: () => number;
  /** This server's token resolver (absent: the ACL route is not served). */
  acl?: {
    resolve(secret: string): AclIdentity; sourcesOf(identity: AclIdentity, datacenter?: string): TokenSources; readonly enabled: boolean;
    /** Readies `resolve` for a secret this datacenter may not hold (a secondary asks the primary). */
    prepare?(secret: string): Promise<void>;
  };
  /** The election's liveness greeting (leader/liveness.ts), null while no election greets here. */
  liveness?: () => LivenessStream | null;
  /**
   * AutoEncrypt.Sign (absent: not served). With `allowTls` the route is also served on TLS
   * connections without a client certificate, and only it.
   */
  autoEncrypt?: { sign(args: CASignRequest, id: AclIdentity | undefined): Promise<SignedResponse>; allowTls: boolean };
  /** ConnectCA.Sign for service leaf certificates (absent: not served). */
  connectSign?: { sign(args: CASignRequest, id: AclIdentity | undefined): Promise<ServiceLeaf> };
  /** ConnectCA.SignIntermediate for secondary datacenters (absent: not served); answers the intermediate's PEM. */
  connectSignIntermediate?: { sign(args: { CSR: string }, id: AclIdentity | undefined): Promise<string> };
  /** ConfigEntry.ResolveServiceConfig under a client's token (absent: not served). */
  serviceConfig?: ServiceConfigSource;
  /** ConfigEntry.ListAll for secondary datacenters' replication (config-replication-source.ts; absent: not served). */
  configList?: (req: HttpRequest) => Promise<HttpResult>;
  /** The agent's TLS settings (absent: plaintext only). */
  tls?: Pick<TlsConfigurator, 'incomingRpc' | 'verifyIncomingRpc' | 'version'>;
  logger: Logger;
  /** This server's request rate limiter (limits.request_limits), shared with its HTTP API. */
  rateLimit?: HttpServerDeps['rateLimit'];
  /** Consul's rpc.request and rpc.request_error counters (rpcRequestCounters; absent: not counted). */
  counters?: RpcRequestCounters;
}

/** Counts the requests the internal RPC port serves (Consul's handleConsulConn counters). */
export interface RpcRequestCounters {
  /** A request that reached one of the port's routes. */
  request(): void;
  /** A request the port could not serve: no route for its path or method. */
  requestError(): void;
  /** A connection accepted on the port (Consul's rpc.accept_conn). */
  acceptConn(): void;
}

/**
 * Consul's rpc.request and rpc.request_error. Consul counts a request_error when its RPC codec
 * fails (an unknown method among them), and an RPC whose handler returned an error as a request;
 * here that is a request no route answers (404, 405) and one that reached a route.
 */
export function rpcRequestCounters(t: Pick<Telemetry, 'counter'>): RpcRequestCounters {
  return {
    request: t.counter('rpc.request', 'Increments when a server receives a Consul-related RPC request.'),
    requestError: t.counter('rpc.request_error', 'Increments when a server returns an error from an RPC request.'),
    acceptConn: t.counter('rpc.accept_conn', 'Increments when a server accepts an RPC connection.'),
  };
}

/** The internal RPC server: its request handling, and the server port's listener. */
export interface RpcServer {
  readonly http: HttpServer;
  /** Binds `bind_addr:ports.server`. */
  listenRpc(): Promise<void>;
  /** The bound `host:port`, none before listenRpc(). */
  addresses(): string[];
  /** Serves a request that arrived on a listener shared with another service (managed mode). */
  serveRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Ends open requests, then closes the port: new connections are refused from then on. */
  close(): Promise<void>;
}

const NO_TLS = { incomingRpc: () => null, verifyIncomingRpc: () => false, version: 0 };

/**
 * Answers a raw DNS message posted by a client agent: under the client's settings and token
 * (anonymous when it sent none) when it sent its settings, as current clients do; else under
 * this server's settings, and this server's DNS token when no token came.
 */
function dnsRoute(d: RpcServerDeps): (req: HttpRequest) => Promise<HttpResult> {
  return async (req) => {
    const msg = await req.body(MAX_DNS_MESSAGE);
    const token = req.headers['x-consul-token'];
    const settings = req.headers[DNS_CONFIG_HEADER];
    const transport = req.query.get('transport') === 'tcp' ? 'tcp' : 'udp';
    const h = (name: string): string => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : '';
    };
    // The asker: its IP, its agent and that agent's datacenter when not ours (a server of another datacenter's question).
    const asker = [h(DNS_SOURCE_HEADER_LOWER), h(DNS_AGENT_HEADER_LOWER), h(DNS_AGENT_DATACENTER_HEADER_LOWER)] as const;
    // Read before answering: the answer holds at least every write up to it.
    const rev = d.revision?.();
    const headers: Record<string, string> = rev === undefined ? {} : { 'X-Consul-Index': String(Math.max(1, rev)) };
    if (typeof settings === 'string' && d.dnsWith) {
      // Agents from before hostname resolution on clients send no such header: resolved here as before.
      const clientHostnames = req.headers[DNS_HOSTNAMES_HEADER.toLowerCase()] !== undefined;
      const handler = d.dnsWith(typeof token === 'string' ? token : '', settings, clientHostnames);
      try {
        const reply = await handler.handle(msg, transport, ...asker);
        return reply ? { raw: reply, contentType: DNS_MESSAGE_TYPE, headers } : { status: 204 };
      } catch (err) {
        if (err instanceof RecursionDelegated) return { status: 204, headers: { [DNS_RECURSE_HEADER]: 'true' } };
        if (err instanceof HostnamesDelegated) return { raw: err.reply, contentType: DNS_MESSAGE_TYPE, headers: { ...headers, [DNS_HOSTNAMES_HEADER]: 'true' } };
        throw err;
      }
    }
    const handler = typeof token === 'string' ? d.dnsFor(token) : d.dns;
    const reply = await handler.handle(msg, transport, ...asker);
    return reply ? { raw: reply, contentType: DNS_MESSAGE_TYPE, headers } : { status: 204 };
  };
}

const MAX_SIGN_REQUEST = 64 * 1024;

// Blocks like any read: `index` from the last answer's X-Consul-Index, `wait` as a Go duration.
function serviceConfigRoute(source: ServiceConfigSource): (req: HttpRequest) => Promise<HttpResult> {
  return async (req) => {
    const token = req.headers['x-consul-token'];
    let args: ServiceConfigRequest;
    try {
      args = JSON.parse((await req.body(MAX_SIGN_REQUEST)).toString('utf8')) as ServiceConfigRequest;
    } catch {
      return { status: 400, raw: 'Request decode failed' };
    }
    const index = Number(req.query.get('index') ?? 0) || 0;
    const wait = parseGoDuration(req.query.get('wait') ?? '') ?? 0;
    const { value, index: at } = await source.resolve(args, typeof token === 'string' ? token : '', index, req.signal, wait);
    return { body: value, headers: { 'X-Consul-Index': String(at) } };
  };
}

function signRoute(d: RpcServerDeps, ae: { sign(args: CASignRequest, id: AclIdentity | undefined): Promise<unknown> }): (req: HttpRequest) => Promise<HttpResult> {
  return async (req) => {
    const token = req.headers['x-consul-token'];
    const secret = typeof token === 'string' ? token : '';
    await d.acl?.prepare?.(secret);
    const id = d.acl?.resolve(secret);
    let args: CASignRequest;
    try {
      args = JSON.parse((await req.body(MAX_SIGN_REQUEST)).toString('utf8')) as CASignRequest;
    } catch {
      return { status: 400, raw: 'Request decode failed' };
    }
    return { body: await ae.sign(args, id) };
  };
}

/** What a token grants, as a client agent compiles it (Consul's ACL.TokenRead + ACL.PolicyResolve). */
export interface TokenGrants {
  /** False when ACLs are off on this server: the client allows everything. */
  Enabled: boolean;
  AccessorID: string;
  /** Linked to global-management. */
  Management: boolean;
  /** The parsed policies valid in this datacenter, from links, roles and identities. */
  Policies: Policy[];
  ExpirationTime?: string;
  /** The token links policies, or roles that do (a client caches what it got for at most acl.policy_ttl). */
  HasPolicies?: boolean;
  /** The token links roles (a client caches what it got for at most acl.role_ttl). */
  HasRoles?: boolean;
  /** With `?datacenter=` (a secondary datacenter's server asking its primary): the token record. */
  Token?: ACLTokenRecord;
  /** With `?datacenter=`: the policies valid in that datacenter, each with its origin (what /v1/acl/explain shows). */
  Sources?: ExplainSource[];
}

function aclRoute(acl: NonNullable<RpcServerDeps['acl']>): (req: HttpRequest) => Promise<HttpResult> {
  return async (req) => {
    const token = req.headers['x-consul-token'];
    const secret = typeof token === 'string' ? token : '';
    await acl.prepare?.(secret);
    const id = acl.resolve(secret);
    const datacenter = req.query.get('datacenter') ?? undefined;
    const grants = acl.sourcesOf(id, datacenter);
    const body: TokenGrants = {
      Enabled: acl.enabled, AccessorID: id.accessorID, Management: grants.management,
      Policies: grants.sources.map((s) => s.policy), ExpirationTime: id.token?.ExpirationTime,
      HasPolicies: (id.token?.Policies?.length ?? 0) > 0 || grants.sources.some((s) => s.origin.Policy !== undefined),
      HasRoles: (id.token?.Roles?.length ?? 0) > 0,
    };
    if (datacenter !== undefined && id.token) {
      const { CreateIndex: _c, ModifyIndex: _m, ...token } = id.token;
      Object.assign(body, { Token: token, Sources: grants.sources });
    }
    return { body };
  };
}

/** Derived DNS handlers per token (or any other string key), bounded (oldest dropped first). */
export function tokenHandlers<H>(make: (token: string) => H): (token: string) => H {
  const cache = new Map<string, H>();
  return (token) => {
    let h = cache.get(token);
    if (!h) {
      if (cache.size >= MAX_TOKEN_HANDLERS) cache.delete(cache.keys().next().value!);
      h = make(token);
      cache.set(token, h);
    }
    return h;
  };
}

/**
 * What a TLS connection without a client certificate may ask (Consul's insecureRPCServer has
 * only AutoEncrypt.Sign an agent could call): that route goes to `serve`, anything else is refused.
 */
export function autoEncryptOnly(serve: RequestListener, logger: Logger): RequestListener {
  return (req, res) => {
    if (req.method === 'POST' && (req.url ?? '').split('?')[0] === AUTO_ENCRYPT_SIGN_PATH) {
      serve(req, res);
      return;
    }
    logger.warn({ conn: `from=${req.socket.remoteAddress}:${req.socket.remotePort}`, method: req.method, path: req.url }, 'request without a client certificate refused: only AutoEncrypt.Sign is served');
    const text = 'Permission denied: a client certificate is required\n';
    res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), Connection: 'close' }).end(text);
  };
}

/** `match` counting each request in `c` (the election's liveness greeting is not a Consul RPC, as Raft's connections are not). */
function countedMatch(match: Router['match'], c: RpcRequestCounters): Router['match'] {
  return (method, path) => {
    let m;
    try {
      m = match(method, path);
    } catch (err) {
      c.requestError();
      throw err;
    }
    if (!m) c.requestError();
    else if (path !== LIVENESS_PATH) c.request();
    return m;
  };
}

/** Builds the internal RPC server; nothing is bound until listenRpc(). */
export function createRpcServer(d: RpcServerDeps): RpcServer {
  const internal = new Router().route('POST', DNS_RPC_PATH, dnsRoute(d));
  if (d.acl) internal.route('GET', ACL_RPC_PATH, aclRoute(d.acl));
  if (d.autoEncrypt) internal.route('POST', AUTO_ENCRYPT_SIGN_PATH, signRoute(d, d.autoEncrypt));
  if (d.connectSign) internal.route('POST', CONNECT_CA_SIGN_PATH, signRoute(d, d.connectSign));
  if (d.connectSignIntermediate) internal.route('POST', CONNECT_CA_SIGN_INTERMEDIATE_PATH, signRoute(d, d.connectSignIntermediate));
  if (d.serviceConfig) internal.route('POST', SERVICE_CONFIG_RPC_PATH, serviceConfigRoute(d.serviceConfig));
  if (d.configList) internal.route('GET', CONFIG_LIST_RPC_PATH, d.configList);
  const liveness = d.liveness;
  if (liveness) {
    internal.route('GET', LIVENESS_PATH, async () => {
      const stream = liveness();
      return stream ? { stream } : { status: 503, raw: 'no leader election greets on this server' };
    });
  }
  const match = (method: string, path: string) => (path.startsWith(INTERNAL_RPC_PREFIX) ? internal.match(method, path) : d.router.match(method, path));
  const counters = d.counters;
  const router = {
    match: counters ? countedMatch(match, counters) : match,
    list: () => [...d.router.list(), ...internal.list()],
  };
  const logger = d.logger.child({ '@module': 'agent.rpc' });
  const server = new HttpServer({
    router, logger, rateLimit: d.rateLimit,
    // allowUnprintablePaths: Consul's unprintable-path filter wraps the HTTP API only, not RPCs;
    // the agent that took the request applied its own disable_http_unprintable_char_filter.
    config: { get defaultAclPolicy() { return d.config.acl.defaultPolicy; }, responseHeaders: {}, maxConnsPerClient: 0, allowUnprintablePaths: true },
  });
  const insecure = d.autoEncrypt?.allowTls ? autoEncryptOnly((req, res) => server.serveRequest(req, res), logger) : undefined;
  const listener = new RpcListener({
    serve: (req, res) => server.serveRequest(req, res), insecure, tls: d.tls ?? NO_TLS, logger, handshakeTimeoutMs: d.config.limits?.rpcHandshakeTimeout,
    acceptConn: counters?.acceptConn,
  });
  return {
    http: server,
    listenRpc: () => listener.listen(d.config.bindAddr, d.config.ports.server),
    addresses: () => listener.addresses(),
    serveRequest: (req, res) => server.serveRequest(req, res),
    close: async () => {
      await server.close();
      await listener.close();
    },
  };
}
