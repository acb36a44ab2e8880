// /v1/agent/services, /v1/agent/service/*, /v1/agent/health/service/* : the agent's own
// services as api.AgentService (with ContentHash and hash-based blocking), registration with
// Consul's validation texts, deregistration, service maintenance and local health.
import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { parseGoDuration } from '../../cli/flags.ts';
import { BadRequestError, NotFoundError, ProconsulError } from '../../errors.ts';
import { filterRecord } from '../../filter/index.ts';
import {
  canonicalJSON, localKey, NODE_MAINT_CHECK_ID, SERVICE_MAINT_PREFIX, type Local, type LocalCheck, type LocalService, type ServiceDefinition,
} from '../../agent/local/index.ts';
import {
  agentProxy, decodeService, filteredHeader, registrableSidecar, serviceVisible, validateServiceDefinition, validateSidecarChecks, vetServiceRead,
  vetServiceRegister, vetServiceUpdate,
} from '../../agent/local/registration.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { SERVICE_DEFINITION } from '../request-fields.ts';
import { authzOf, parseToken, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt, entInput, requestEnt } from '../tenancy.ts';

/** What the agent service handlers read. */
export interface AgentLocalConfig extends RequestConfig {
  defaultQueryTime: number;
  maxQueryTime: number;
}

const GATEWAYS = new Set(['mesh-gateway', 'terminating-gateway', 'ingress-gateway', 'api-gateway']);

/**
 * The namespace an agent-local request acts in (Consul Enterprise's parseEntMetaNoWildcard on the
 * agent endpoints: ?ns, X-Consul-Namespace, else the token's), lower-case, and whether the request
 * named a tenant (answers then carry Namespace and Partition). `ns=*` is refused.
 */
export function agentNamespace(req: HttpRequest, cfg: RequestConfig): { namespace: string; named: boolean } {
  const named = entInput(req, 'namespace-no-wildcard').explicit;
  const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authzOf(req, cfg));
  return { namespace: ent.namespace.toLowerCase(), named };
}

/** A local service's JSON with Consul Enterprise's Namespace and Partition (before Datacenter, as api.AgentService). */
export function withAgentTenancy(svc: Record<string, unknown>, namespace: string, partition: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(svc)) {
    if (k === 'Datacenter') Object.assign(out, { Namespace: namespace, Partition: partition });
    out[k] = v;
  }
  return out;
}

/** A local service as Consul's api.AgentService (buildAgentService). */
export function agentService(s: LocalService, datacenter: string): Record<string, unknown> {
  const tagged = s.TaggedAddresses && Object.keys(s.TaggedAddresses).length ? s.TaggedAddresses : undefined;
  return {
    ...(s.Kind ? { Kind: s.Kind } : {}),
    ID: s.ID, Service: s.Service, Tags: s.Tags ?? [], Meta: s.Meta ?? {}, Port: s.Port, Address: s.Address,
    ...(s.SocketPath ? { SocketPath: s.SocketPath } : {}),
    ...(tagged ? { TaggedAddresses: tagged } : {}),
    Weights: { Passing: s.Weights.Passing > 0 ? s.Weights.Passing : 1, Warning: s.Weights.Warning },
    EnableTagOverride: s.EnableTagOverride,
    ...(s.Kind === 'connect-proxy' || GATEWAYS.has(s.Kind ?? '') ? { Proxy: agentProxy(s.Proxy ?? {}) } : {}),
    ...(s.Connect?.Native === true ? { Connect: { Native: true } } : {}),
    Datacenter: datacenter,
    ...(s.Locality && Object.keys(s.Locality).length ? { Locality: s.Locality } : {}),
  };
}

/** The content hash of an AgentService (fields Consul's hashstructure ignores left out: Datacenter, Locality, Namespace, Partition). */
export function contentHash(svc: Record<string, unknown>): string {
  const { Datacenter: _d, ContentHash: _c, Locality: _l, Namespace: _ns, Partition: _ap, ...hashed } = svc;
  return createHash('sha256').update(canonicalJSON(hashed)).digest('hex').slice(0, 16);
}

/** A definition placed in the request's namespace unless it names its own; its checks (and sidecar) follow the service. */
function inAgentNamespace(def: ServiceDefinition, namespace: string): ServiceDefinition {
  const ns = def.service.Namespace || (namespace === 'default' ? '' : namespace);
  if (!ns) return def;
  const service = { ...def.service, Namespace: ns };
  const checks = def.checks.map((c) => ({ ...c, Namespace: ns }));
  const sidecar = def.sidecar && { ...def.sidecar, def: inAgentNamespace(def.sidecar.def, ns) };
  return { ...def, service, checks, ...(sidecar ? { sidecar } : {}) };
}

function waitMs(req: HttpRequest, cfg: AgentLocalConfig, random: () => number): number {
  const raw = req.query.get('wait');
  let wait = 0;
  if (raw) {
    const ms = parseGoDuration(raw);
    if (ms === null) throw new BadRequestError('Invalid wait time');
    wait = Math.max(0, ms);
  }
  if (wait <= 0) wait = cfg.defaultQueryTime;
  if (wait > cfg.maxQueryTime) wait = cfg.maxQueryTime;
  return wait + random() * (wait / 16);
}

// Consul's LocalBlockingQuery: answer at once unless `hash` still matches, then wait for a
// local change or the timeout and answer whatever holds then.
async function hashBlocking<T extends { hash: string }>(
  local: Local, clock: Clock, hash: string, timeout: number, signal: AbortSignal, run: () => T,
): Promise<T> {
  let res = run();
  const deadline = clock.now() + timeout;
  while (hash && res.hash === hash && clock.now() < deadline && !signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = clock.setTimer(deadline - clock.now(), done);
      const unsubscribe = local.state.subscribe(done);
      signal.addEventListener('abort', done, { once: true });
      function done(): void {
        timer.cancel();
        unsubscribe();
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
    res = run();
  }
  return res;
}

/** Consul's api.HealthChecks.AggregatedStatus: maintenance, then critical, warning, passing. */
export function aggregatedStatus(checks: LocalCheck[]): string {
  let critical = false;
  let warning = false;
  for (const c of checks) {
    if (c.CheckID === NODE_MAINT_CHECK_ID || c.CheckID.startsWith(SERVICE_MAINT_PREFIX)) return 'maintenance';
    if (c.Status === 'critical') critical = true;
    else if (c.Status === 'warning') warning = true;
    else if (c.Status !== 'passing') return '';
  }
  return critical ? 'critical' : warning ? 'warning' : 'passing';
}

function statusCode(status: string): number {
  return status === 'passing' ? 200 : status === 'warning' ? 429 : 503;
}

function wantsText(req: HttpRequest): boolean {
  if (String(req.headers.accept ?? '').startsWith('text/plain')) return true;
  return req.query.get('format') === 'text';
}

function apiCheck(c: LocalCheck): Record<string, unknown> {
  return {
    Node: c.Node, CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes, Output: c.Output,
    ServiceID: c.ServiceID, ServiceName: c.ServiceName, ServiceTags: c.ServiceTags ?? [], Type: '', Interval: '',
    Timeout: '', ExposedPort: 0, Definition: {}, CreateIndex: 0, ModifyIndex: 0,
  };
}

/** The agent's admin partition as answers show it. */
export function agentPartition(cfg: RequestConfig): string {
  return (cfg.partition || 'default').toLowerCase();
}

function serviceHealth(local: Local, s: LocalService, dc: string, ap: string, named = false): { code: number; status: string; info: Record<string, unknown> } {
  const checks = local.state.checksForService(localKey(s.ID, s.Namespace), true);
  const status = aggregatedStatus(checks);
  const svc = s.Namespace || named ? withAgentTenancy(agentService(s, dc), s.Namespace ?? 'default', ap) : agentService(s, dc);
  return { code: statusCode(status), status, info: { AggregatedStatus: status, Service: svc, Checks: checks.map(apiCheck) } };
}

/** Parses Go's strconv.ParseBool for `?enable=` with Consul's texts. */
export function enableParam(req: HttpRequest): boolean {
  if (!req.query.has('enable')) throw new BadRequestError('Missing value for enable');
  const raw = req.query.get('enable') ?? '';
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw new BadRequestError(`Invalid value for enable: ${JSON.stringify(raw)}`);
}

/** Handlers for the agent's service routes. */
export function agentServiceHandlers(local: Local, cfg: AgentLocalConfig, clock: Clock, random: () => number) {
  const dc = cfg.datacenter;
  const ap = agentPartition(cfg);
  const view = (id: string, ns: string, named: boolean) => {
    const s = local.state.service(localKey(id, ns));
    if (!s) throw new NotFoundError(`unknown service ID: ${id}`);
    const svc = s.Namespace || named ? withAgentTenancy(agentService(s, dc), ns, ap) : agentService(s, dc);
    const hash = contentHash(svc);
    return { hash, svc: { ...svc, ContentHash: hash } };
  };
  return {
    async services(req: HttpRequest): Promise<HttpResult> {
      const { namespace, named } = agentNamespace(req, cfg);
      const id = authzOf(req, cfg);
      const services = local.state.services(namespace);
      // ACLs filter before the user's expression, so it cannot probe what the token may not see.
      const visible = services.filter((s) => serviceVisible(id, s, local.state.partition));
      const shown = (s: LocalService) => (s.Namespace || named ? withAgentTenancy(agentService(s, dc), namespace, ap) : agentService(s, dc));
      const all = Object.fromEntries(visible.map((s) => [s.ID, shown(s)]));
      const headers = filteredHeader(id, visible.length !== services.length);
      return { body: filterRecord(all, req.query.get('filter') ?? undefined), headers };
    },
    async service(req: HttpRequest): Promise<HttpResult> {
      const timeout = waitMs(req, cfg, random);
      const { namespace, named } = agentNamespace(req, cfg);
      const known = local.state.service(localKey(req.params.rest, namespace));
      if (known) vetServiceRead(authzOf(req, cfg), known.Service, known.Namespace, local.state.partition);
      const res = await hashBlocking(local, clock, req.query.get('hash') ?? '', timeout, req.signal, () => view(req.params.rest, namespace, named));
      return { body: res.svc, headers: { 'X-Consul-ContentHash': res.hash } };
    },
    async register(req: HttpRequest): Promise<HttpResult> {
      const { namespace } = agentNamespace(req, cfg);
      const body = parseJSON(await req.body()) ?? {};
      if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('Request decode failed: json: cannot unmarshal into Go value of type structs.ServiceDefinition');
      // The body's Namespace wins over the request's (Consul Enterprise's ServiceDefinition EnterpriseMeta).
      refuseUnknownFields(body, SERVICE_DEFINITION);
      const decoded = decodeService(body);
      // The body's Namespace is checked as a request's (a label, no wildcard): it names the catalog namespace anti-entropy writes to.
      bodyEnt({ namespace: decoded.service.Namespace });
      const def = inAgentNamespace(decoded, namespace);
      validateServiceDefinition(def);
      validateSidecarChecks(def);
      vetServiceRegister(authzOf(req, cfg), local.state, def.service);
      const token = parseToken(req, cfg);
      const sidecar = registrableSidecar(def, token);
      // The sidecar may carry its own token: it must allow the sidecar's registration.
      if (sidecar) vetServiceRegister(cfg.acl?.resolve(sidecar.token), local.state, sidecar.def.service);
      const replace = req.query.getAll('replace-existing-checks');
      const replaceExistingChecks = replace.length > 0 && (replace[0] === '' || replace[0] === 'true');
      // Proxies and gateways read their central defaults first: failures answer this request.
      await local.agent.prepare(def, token);
      if (sidecar) await local.agent.prepare(sidecar.def, sidecar.token);
      local.agent.addService(def, { source: 'remote', persist: true, token, replaceExistingChecks });
      if (sidecar) local.agent.addService(sidecar.def, { source: 'remote', persist: true, token: sidecar.token, replaceExistingChecks });
      await local.agent.syncChanges();
      return {};
    },
    async deregister(req: HttpRequest): Promise<HttpResult> {
      const key = localKey(req.params.rest, agentNamespace(req, cfg).namespace);
      vetServiceUpdate(authzOf(req, cfg), local.state, key);
      local.agent.removeService(key);
      await local.agent.syncChanges();
      return {};
    },
    async maintenance(req: HttpRequest): Promise<HttpResult> {
      const id = req.params.rest;
      if (!id) throw new BadRequestError('Missing service ID');
      const enable = enableParam(req);
      const key = localKey(id, agentNamespace(req, cfg).namespace);
      vetServiceUpdate(authzOf(req, cfg), local.state, key);
      try {
        if (enable) local.agent.enableServiceMaintenance(key, req.query.get('reason') ?? '', parseToken(req, cfg));
        else local.agent.disableServiceMaintenance(key);
      } catch (err) {
        throw err instanceof ProconsulError ? new NotFoundError(err.message) : err;
      }
      await local.agent.syncChanges();
      return {};
    },
    async healthById(req: HttpRequest): Promise<HttpResult> {
      const id = req.params.rest;
      if (!id) throw new BadRequestError('Missing serviceID');
      const { namespace, named } = agentNamespace(req, cfg);
      const s = local.state.service(localKey(id, namespace));
      if (!s) {
        const reason = `ServiceId ${id} not found`;
        if (wantsText(req)) return { status: 404, raw: reason };
        return { status: 404, body: { AggregatedStatus: 'critical', Service: null, Checks: null } };
      }
      vetServiceRead(authzOf(req, cfg), s.Service, s.Namespace, local.state.partition);
      const h = serviceHealth(local, s, dc, ap, named);
      return wantsText(req) ? { status: h.code, raw: h.status } : { status: h.code, body: h.info };
    },
    async healthByName(req: HttpRequest): Promise<HttpResult> {
      const name = req.params.rest;
      if (!name) throw new BadRequestError('Missing service Name');
      const { namespace, named } = agentNamespace(req, cfg);
      vetServiceRead(authzOf(req, cfg), name, namespace, local.state.partition);
      let code = 404;
      let status = `ServiceName ${name} Not Found`;
      const out: Record<string, unknown>[] = [];
      for (const s of local.state.services(namespace).filter((x) => x.Service === name)) {
        const h = serviceHealth(local, s, dc, ap, named);
        out.push(h.info);
        // The worst instance decides: passing 200 < warning 429 < critical 503.
        if (code === 404 || code < h.code) [code, status] = [h.code, h.status];
      }
      return wantsText(req) ? { status: code, raw: status } : { status: code, body: out };
    },
  };
}
