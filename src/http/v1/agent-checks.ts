// /v1/agent/checks, /v1/agent/check/* and /v1/agent/maintenance: the agent's own checks as
// Consul's HealthCheck map, registration, TTL reports (pass/warn/fail/update) and node
// maintenance, each synced to the catalog before answering.
import { BadRequestError, NotFoundError } from '../../errors.ts';
import { filterRecord } from '../../filter/index.ts';
import { localKey, type Local } from '../../agent/local/index.ts';
import {
  checkVisible, decodeCheck, filteredHeader, validateCheckDefinition, validStatus, vetCheckRegister, vetCheckUpdate, vetNodeUpdate,
} from '../../agent/local/registration.ts';
import type { CheckStatus } from '../../agent/checks/index.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { CHECK_DEFINITION, CHECK_UPDATE } from '../request-fields.ts';
import { authzOf, parseToken, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt } from '../tenancy.ts';
import { agentNamespace, agentPartition, enableParam } from './agent-services.ts';

function objectBody(v: unknown, type: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError(`Request decode failed: json: cannot unmarshal into Go value of type ${type}`);
  return v as Record<string, unknown>;
}

/** Handlers for the agent's check routes. */
export function agentCheckHandlers(local: Local, cfg: RequestConfig) {
  // A check named by ID in the request's namespace (its local key).
  const checkKey = (req: HttpRequest): string => localKey(req.params.rest, agentNamespace(req, cfg).namespace);
  const report = (status: CheckStatus) => async (req: HttpRequest): Promise<HttpResult> => {
    const key = checkKey(req);
    vetCheckUpdate(authzOf(req, cfg), local.state, key);
    local.agent.updateTTL(key, status, req.query.get('note') ?? '');
    await local.agent.syncChanges();
    return {};
  };
  return {
    async checks(req: HttpRequest): Promise<HttpResult> {
      const { namespace, named } = agentNamespace(req, cfg);
      const id = authzOf(req, cfg);
      const checks = local.state.checks(namespace);
      const visible = checks.filter((c) => checkVisible(id, local.state, c));
      // Consul Enterprise's HealthCheck carries Namespace and Partition (before the indexes) outside the default namespace or when asked for one.
      const shown = (c: (typeof checks)[number]) => (c.Namespace || named
        ? { ...c, ServiceTags: c.ServiceTags ?? [], Namespace: c.Namespace ?? 'default', Partition: agentPartition(cfg), CreateIndex: 0, ModifyIndex: 0 }
        : { ...c, ServiceTags: c.ServiceTags ?? [], CreateIndex: 0, ModifyIndex: 0 });
      const all = Object.fromEntries(visible.map((c) => [c.CheckID, shown(c)]));
      const headers = filteredHeader(id, visible.length !== checks.length);
      return { body: filterRecord(all, req.query.get('filter') ?? undefined), headers };
    },
    async register(req: HttpRequest): Promise<HttpResult> {
      const { namespace } = agentNamespace(req, cfg);
      const body = objectBody(parseJSON(await req.body()), 'structs.CheckDefinition');
      refuseUnknownFields(body, CHECK_DEFINITION);
      const decoded = decodeCheck(body);
      bodyEnt({ namespace: decoded.Namespace });
      // The body's Namespace wins over the request's; a node check stays in the default namespace.
      const ns = decoded.Namespace || (namespace === 'default' ? '' : namespace);
      let def = decoded;
      if (ns && decoded.ServiceID) def = { ...decoded, Namespace: ns };
      else if (decoded.Namespace) {
        const { Namespace: _nodeCheck, ...rest } = decoded;
        def = rest;
      }
      validateCheckDefinition(def);
      const health = local.agent.healthCheck(def);
      if (health.ServiceID && !local.state.service(localKey(health.ServiceID, health.Namespace))) {
        throw new NotFoundError(`ServiceID ${JSON.stringify(health.ServiceID)} does not exist`);
      }
      vetCheckRegister(authzOf(req, cfg), local.state, health);
      local.agent.addCheck(health, def.type, { source: 'remote', persist: true, token: parseToken(req, cfg) || def.Token });
      await local.agent.syncChanges();
      return {};
    },
    async deregister(req: HttpRequest): Promise<HttpResult> {
      const key = checkKey(req);
      vetCheckUpdate(authzOf(req, cfg), local.state, key);
      local.agent.removeCheck(key);
      await local.agent.syncChanges();
      return {};
    },
    pass: report('passing'),
    warn: report('warning'),
    fail: report('critical'),
    async update(req: HttpRequest): Promise<HttpResult> {
      const raw = objectBody(parseJSON(await req.body()), 'agent.checkUpdate');
      refuseUnknownFields(raw, CHECK_UPDATE);
      const body = canonical(raw, ['Status', 'Output']);
      const status = typeof body.Status === 'string' ? body.Status : '';
      if (!validStatus(status)) throw new BadRequestError(`Invalid check status: '${status}'`);
      const key = checkKey(req);
      vetCheckUpdate(authzOf(req, cfg), local.state, key);
      const output = typeof body.Output === 'string' ? body.Output : '';
      local.agent.updateTTL(key, status as CheckStatus, output);
      await local.agent.syncChanges();
      return {};
    },
    async nodeMaintenance(req: HttpRequest): Promise<HttpResult> {
      const enable = enableParam(req);
      vetNodeUpdate(authzOf(req, cfg), local.state);
      if (enable) local.agent.enableNodeMaintenance(req.query.get('reason') ?? '', parseToken(req, cfg));
      else local.agent.disableNodeMaintenance();
      await local.agent.syncChanges();
      return {};
    },
  };
}
