// /v1/agent/services, /v1/agent/service/*, /v1/agent/health/service/* : the agent's own
// services as api.AgentService (with ContentHash and hash-based blocking), registration with
// Consul's validation texts, deregistration, service maintenance and local health.
import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { parseGoDuration } from '../../cli/flags.ts';
import { BadRequestError, NotFoundError, ProconsulError } from '../../errors.ts';
import { filterRecord } from '../../filter/index.ts';
import {
  agentProxy, canonicalJSON, decodeService, filteredHeader, registrableSidecar, serviceVisible, validateServiceDefinition, validateSidecarChecks, vetServiceRead,
  vetServiceRegister, vetServiceUpdate, NODE_MAINT_CHECK_ID, SERVICE_MAINT_PREFIX, type Local, type LocalCheck, type LocalService,
} from '../../agent/local/index.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { authzOf, checkTenancy, parseToken, type HttpRequest, type RequestConfig } from '../request.ts';

/** What the agent service handlers read. */
export interface AgentLocalConfig extends RequestConfig {
  defaultQueryTime: number;
  maxQueryTime: number;
}

const GATEWAYS = new Set(['mesh-gateway', 'terminating-gateway', 'ingress-gateway', 'api-gateway']);

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

/** The content hash of an AgentService (fields Consul's hashstructure ignores left out: Datacenter, Locality). */
export function contentHash(svc: Record<string, unknown>): string {
  const { Datacenter: _d, ContentHash: _c, Locality: _l, ...hashed } = svc;
  return createHash('sha256').update(canonicalJSON(hashed)).digest('hex').slice(0, 16);
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

function serviceHealth(local: Local, s: LocalService, dc: string): { code: number; status: string; info: Record<string, unknown> } {
  const checks = local.state.checksForService(s.ID, true);
  const status = aggregatedStatus(checks);
  return { code: statusCode(status), status, info: { AggregatedStatus: status, Service: agentService(s, dc), Checks: checks.map(apiCheck) } };
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
  const view = (id: string) => {
    const s = local.state.service(id);
    if (!s) throw new NotFoundError(`unknown service ID: ${id}`);
    const svc = agentService(s, dc);
    const hash = contentHash(svc);
    return { hash, svc: { ...svc, ContentHash: hash } };
  };
  return {
    async services(req: HttpRequest): Promise<HttpResult> {
      checkTenancy(req);
      const id = authzOf(req, cfg);
      const services = local.state.services();
      // ACLs filter before the user's expression, so it cannot probe what the token may not see.
      const visible = services.filter((s) => serviceVisible(id, s));
      const all = Object.fromEntries(visible.map((s) => [s.ID, agentService(s, dc)]));
      const headers = filteredHeader(id, visible.length !== services.length);
      return { body: filterRecord(all, req.query.get('filter') ?? undefined), headers };
    },
    async service(req: HttpRequest): Promise<HttpResult> {
      const timeout = waitMs(req, cfg, random);
      checkTenancy(req);
      const known = local.state.service(req.params.rest);
      if (known) vetServiceRead(authzOf(req, cfg), known.Service);
      const res = await hashBlocking(local, clock, req.query.get('hash') ?? '', timeout, req.signal, () => view(req.params.rest));
      return { body: res.svc, headers: { 'X-Consul-ContentHash': res.hash } };
    },
    async register(req: HttpRequest): Promise<HttpResult> {
      checkTenancy(req);
      const body = parseJSON(await req.body()) ?? {};
      if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('Request decode failed: json: cannot unmarshal into Go value of type structs.ServiceDefinition');
      const def = decodeService(body);
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
      checkTenancy(req);
      vetServiceUpdate(authzOf(req, cfg), local.state, req.params.rest);
      local.agent.removeService(req.params.rest);
      await local.agent.syncChanges();
      return {};
    },
    async maintenance(req: HttpRequest): Promise<HttpResult> {
      const id = req.params.rest;
      if (!id) throw new BadRequestError('Missing service ID');
      const enable = enableParam(req);
      checkTenancy(req);
      vetServiceUpdate(authzOf(req, cfg), local.state, id);
      try {
        if (enable) local.agent.enableServiceMaintenance(id, req.query.get('reason') ?? '', parseToken(req, cfg));
        else local.agent.disableServiceMaintenance(id);
      } catch (err) {
        throw err instanceof ProconsulError ? new NotFoundError(err.message) : err;
      }
      await local.agent.syncChanges();
      return {};
    },
    async healthById(req: HttpRequest): Promise<HttpResult> {
      const id = req.params.rest;
      if (!id) throw new BadRequestError('Missing serviceID');
      checkTenancy(req);
      const s = local.state.service(id);
      if (!s) {
        const reason = `ServiceId ${id} not found`;
        if (wantsText(req)) return { status: 404, raw: reason };
        return { status: 404, body: { AggregatedStatus: 'critical', Service: null, Checks: null } };
      }
      vetServiceRead(authzOf(req, cfg), s.Service);
      const h = serviceHealth(local, s, dc);
      return wantsText(req) ? { status: h.code, raw: h.status } : { status: h.code, body: h.info };
    },
    async healthByName(req: HttpRequest): Promise<HttpResult> {
      const name = req.params.rest;
      if (!name) throw new BadRequestError('Missing service Name');
      checkTenancy(req);
      vetServiceRead(authzOf(req, cfg), name);
      let code = 404;
      let status = `ServiceName ${name} Not Found`;
      const out: Record<string, unknown>[] = [];
      for (const s of local.state.services().filter((x) => x.Service === name)) {
        const h = serviceHealth(local, s, dc);
        out.push(h.info);
        // The worst instance decides: passing 200 < warning 429 < critical 503.
        if (code === 404 || code < h.code) [code, status] = [h.code, h.status];
      }
      return wantsText(req) ? { status: code, raw: status } : { status: code, body: out };
    },
  };
}
