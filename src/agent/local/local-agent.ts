// The agent's service and check operations (Consul's Agent.AddService/RemoveService/AddCheck/
// RemoveCheck, maintenance mode and TTL updates): local state, check runners and persistence
// kept in step, with anti-entropy paused during each bulk change.
import { createRequire } from 'node:module';
import { formatGoDuration } from '../../cli/flags.ts';
import { InternalError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { CheckStatus, CheckType } from '../checks/index.ts';
import type { AntiEntropy } from './anti-entropy.ts';
import type { CheckDefinition, LocalService, ServiceDefinition } from './definition.ts';
import type { Persistence } from './persist.ts';
import type { CheckRunners } from './runners.ts';
import type { SidecarPorts } from './sidecar.ts';
import type { ServiceManager } from './service-manager.ts';
import { canonicalJSON } from './compare.ts';
import type { ServiceConfigResponse } from '../../api/service-config-types.ts';
import type { Locality } from '../../api/catalog-types.ts';
import { checkKeyOf, localKey, serviceKeyOf, type ConfigSource, type LocalCheck, type LocalState } from './state.ts';

const require = createRequire(import.meta.url);
/** Sidecar defaults and check kinds, loaded by the first registration that needs them, not by a start (issue #9). */
const sidecars = () => require('./sidecar.ts') as typeof import('./sidecar.ts');
const checks = () => require('../checks/index.ts') as typeof import('../checks/index.ts');

/** The kinds central service config can apply to (sidecar proxies and gateways). */
const CENTRAL_KINDS = new Set(['connect-proxy', 'mesh-gateway', 'terminating-gateway', 'ingress-gateway', 'api-gateway']);

/** Consul's structs.NodeMaint check ID. */
export const NODE_MAINT_CHECK_ID = '_node_maintenance';
/** Consul's structs.ServiceMaintPrefix. */
export const SERVICE_MAINT_PREFIX = '_service_maintenance:';
const DEFAULT_NODE_MAINT_REASON = 'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.';
const DEFAULT_SERVICE_MAINT_REASON = 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.';

/** How a registration is made. */
export interface RegisterOptions {
  source: ConfigSource;
  /** Write it to the data dir (API registrations); config-file entries are not persisted. */
  persist: boolean;
  token: string;
  replaceExistingChecks?: boolean;
  /** Check statuses to keep across a reload, by check ID. */
  snapshot?: Map<string, LocalCheck>;
}

/** The collaborators of LocalAgent. */
export interface LocalAgentParts {
  nodeName: string;
  state: LocalState;
  runners: CheckRunners;
  ae: AntiEntropy;
  persistence?: Persistence;
  logger: Logger;
  nowSeconds: () => number;
  /** Where sidecars without a port get one (ports.sidecar_min_port … sidecar_max_port). */
  sidecarPorts: SidecarPorts;
  /** Central service config for proxies and gateways (enable_central_service_config), made on first use; absent when off. */
  serviceManager?: () => ServiceManager;
  /** The agent's locality: a service registered without one carries it (absent: none). */
  locality?: Locality;
}

/** A registration as it was made, before central defaults were merged in. */
interface Registration {
  service: LocalService;
  token: string;
  source: ConfigSource;
}

function withDefaultTaggedAddresses(s: LocalService): LocalService {
  const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(s.Address);
  const v6 = !v4 && s.Address.includes(':');
  if (!v4 && !v6) return s;
  const tagged = { ...(s.TaggedAddresses ?? {}) };
  const [lan, wan] = v4 ? ['lan_ipv4', 'wan_ipv4'] : ['lan_ipv6', 'wan_ipv6'];
  tagged[lan] ??= { Address: s.Address, Port: s.Port };
  tagged[wan] ??= { Address: s.Address, Port: s.Port };
  return { ...s, TaggedAddresses: tagged };
}

/** The local agent's registrations. */
export class LocalAgent {
  readonly #p: LocalAgentParts;
  readonly #registrations = new Map<string, Registration>();

  constructor(parts: LocalAgentParts) {
    this.#p = parts;
  }

  /** The local state (read side for the HTTP handlers). */
  get state(): LocalState {
    return this.#p.state;
  }

  /** Builds the HealthCheck record of a check definition (Consul's CheckDefinition.HealthCheck). */
  healthCheck(def: CheckDefinition, fallbackId = '', fallbackName = ''): LocalCheck {
    const t = def.type;
    return {
      Node: this.#p.nodeName, CheckID: def.ID || fallbackId || def.Name, Name: def.Name || fallbackName || def.ID,
      Status: def.Status || 'critical', Notes: def.Notes, Output: '', ServiceID: def.ServiceID, ServiceName: '',
      ServiceTags: [], Type: checks().checkKind(t) ?? '', Interval: t.Interval ? formatGoDuration(t.Interval) : '',
      Timeout: t.Timeout ? formatGoDuration(t.Timeout) : '', ExposedPort: 0, Definition: {},
      ...(def.Namespace ? { Namespace: def.Namespace } : {}),
    };
  }

  /** Registers a service with its checks (Consul's AddService). */
  addService(def: ServiceDefinition, o: RegisterOptions): void {
    try {
      this.#addService(def, o);
    } catch (err) {
      // The watch `prepare` started for a registration that did not happen (no sidecar port
      // left, a bad check) would otherwise block on the servers until the agent stops.
      if (CENTRAL_KINDS.has(def.service.Kind ?? '') && !this.#registrations.has(serviceKeyOf(def.service))) this.#p.serviceManager?.().stop(serviceKeyOf(def.service));
      throw err;
    }
  }

  #addService(def: ServiceDefinition, o: RegisterOptions): void {
    const { state, ae } = this.#p;
    // A sidecar's port and default checks are settled here, against the services registered now.
    if (def.service.LocallyRegisteredAsSidecar) def = this.#sidecarDefaults(def);
    const service = this.#withAgentLocality(withDefaultTaggedAddresses(def.service));
    const token = o.token || def.token;
    // A service outside the default namespace is keyed with it, and its checks are in it too.
    const key = serviceKeyOf(service);
    const ns = service.Namespace;
    const existing = new Set(state.checksForService(key, false).map(checkKeyOf));
    const checks = def.checks.map((c, i) => {
      const id = def.checks.length > 1 ? `service:${service.ID}:${i + 1}` : `service:${service.ID}`;
      const check = this.healthCheck(c, id, `Service '${service.Service}' check`);
      return { def: c, check: ns ? { ...check, ServiceID: service.ID, Namespace: ns } : { ...check, ServiceID: service.ID } };
    });
    const isNew = !state.service(key);
    ae.pause();
    try {
      state.addService(this.#withCentralConfig(service, token, o.source), token, o.source);
      for (const { def: c, check } of checks) this.#runCheck(check, c.type, token, o);
      if (o.persist) this.#p.persistence?.saveService({ Token: token, Service: service, Source: o.source });
      if (o.replaceExistingChecks) {
        const keep = new Set(checks.map((c) => checkKeyOf(c.check)));
        for (const id of existing) if (!keep.has(id)) this.removeCheck(id, o.persist);
      }
    } catch (err) {
      if (isNew) this.removeService(key, true);
      throw err;
    } finally {
      ae.resume();
    }
  }

  /** Central service config made ready before registering (Consul's blocking first fetch). */
  prepare(def: ServiceDefinition, token: string): Promise<void> {
    const m = this.#manager(def.service);
    return m ? m.prime(def.service, token || def.token) : Promise.resolve();
  }

  // Only proxies and gateways ever need the manager (and the modules behind it).
  #manager(s: LocalService): ServiceManager | undefined {
    // A registration in a namespace reads that namespace's central config (the request names it).
    if (!CENTRAL_KINDS.has(s.Kind ?? '') && !this.#registrations.has(serviceKeyOf(s))) return undefined;
    return this.#p.serviceManager?.();
  }

  // The registration is kept as made (persisted so, and merged again whenever the central
  // defaults change); local state and the catalog get it merged.
  // A service that gives no locality runs where its agent does (the agent's locality block).
  #withAgentLocality(s: LocalService): LocalService {
    const l = this.#p.locality;
    return l && !s.Locality ? { ...s, Locality: { ...l } } : s;
  }

  #withCentralConfig(service: LocalService, token: string, source: ConfigSource): LocalService {
    const m = this.#manager(service);
    if (!m) return service;
    const id = serviceKeyOf(service);
    const defaults = m.track(service, token, (d) => this.#remerge(id, d));
    if (!m.applies(service)) {
      this.#registrations.delete(id);
      return service;
    }
    this.#registrations.set(id, { service, token, source });
    return m.merge(defaults, service);
  }

  #remerge(id: string, defaults: ServiceConfigResponse): void {
    const reg = this.#registrations.get(id);
    const current = this.#p.state.service(id);
    if (!reg || !current) return;
    const merged = this.#p.serviceManager!().merge(defaults, reg.service);
    if (canonicalJSON(merged) === canonicalJSON(current)) return;
    this.#p.state.addService(merged, reg.token, reg.source);
    this.#p.logger.debug({ service: id }, 'updated local registration for service');
  }

  #sidecarDefaults(def: ServiceDefinition): ServiceDefinition {
    const { sidecarDefaultChecks, sidecarPort } = sidecars();
    let service = def.service;
    if (!(service.Port >= 1)) service = { ...service, Port: sidecarPort(this.#p.state.services('*'), service.ID, this.#p.sidecarPorts) };
    const checks = def.checks.length ? def.checks : sidecarDefaultChecks(service);
    return { ...def, service, checks };
  }

  #runCheck(check: LocalCheck, type: CheckType | null, token: string, o: RegisterOptions): void {
    const { state, runners, persistence } = this.#p;
    const key = checkKeyOf(check);
    const prev = o.snapshot?.get(key) ?? state.check(key);
    const restored = type?.TTL ? persistence?.loadCheckState(key, this.#p.nowSeconds()) : undefined;
    const keep = restored ?? (prev && { Status: prev.Status, Output: prev.Output });
    state.addCheck(keep ? { ...check, Status: keep.Status, Output: keep.Output } : check, token, o.source);
    if (type) runners.run(check, type, o.source, keep);
    else runners.stop(key);
    if (o.persist) persistence?.saveCheck({ Check: check, ChkType: type, Token: token, Source: o.source });
  }

  /** Deregisters a service (by its local key) and its checks; unknown IDs are ignored, as Consul does. */
  removeService(id: string, persist = true): void {
    const { state, logger } = this.#p;
    const svc = state.service(id);
    if (!svc) {
      logger.warn({ service: id }, 'Failed to deregister service');
      return;
    }
    for (const c of state.checksForService(id, false)) this.removeCheck(checkKeyOf(c), persist);
    state.removeService(id);
    if (this.#registrations.delete(id)) this.#p.serviceManager?.().stop(id);
    if (persist) this.#p.persistence?.purgeService(id);
    // The sidecar registered from this service's sidecar_service goes with it (removeServiceSidecars).
    const sidecar = localKey(sidecars().sidecarId(svc.ID), svc.Namespace);
    if (state.service(sidecar)?.LocallyRegisteredAsSidecar) this.removeService(sidecar, persist);
  }

  /** Registers a check (Consul's AddCheck); a static check when `type` is null. */
  addCheck(check: LocalCheck, type: CheckType | null, o: RegisterOptions): void {
    if (check.ServiceID && !this.#p.state.service(localKey(check.ServiceID, check.Namespace))) {
      throw new InternalError(`ServiceID ${JSON.stringify(check.ServiceID)} does not exist`);
    }
    this.#p.ae.pause();
    try {
      this.#runCheck(check, type, o.token, o);
    } finally {
      this.#p.ae.resume();
    }
  }

  /** Deregisters a check; unknown IDs are ignored. */
  removeCheck(id: string, persist = true): void {
    this.#p.runners.stop(id);
    this.#p.state.removeCheck(id);
    if (persist) this.#p.persistence?.purgeCheck(id);
  }

  /** Reports to a TTL check (pass/warn/fail/update). */
  updateTTL(id: string, status: CheckStatus, output: string): void {
    this.#p.runners.updateTTL(id, status, output);
  }

  /** Puts a service into maintenance (a critical `_service_maintenance:<id>` check). */
  enableServiceMaintenance(id: string, reason: string, token: string): void {
    const svc = this.#p.state.service(id);
    if (!svc) throw new InternalError(`No service registered with ID ${JSON.stringify(id.split('\0')[0])}`);
    const checkId = SERVICE_MAINT_PREFIX + svc.ID;
    if (this.#p.state.check(localKey(checkId, svc.Namespace))) return;
    const check = {
      ...this.#maintCheck(checkId, 'Service Maintenance Mode', reason || DEFAULT_SERVICE_MAINT_REASON),
      ServiceID: svc.ID, ServiceName: svc.Service,
    };
    this.addCheck(svc.Namespace ? { ...check, Namespace: svc.Namespace } : check, null, { source: 'local', persist: true, token });
    this.#p.logger.info({ service: id }, 'Service entered maintenance mode');
  }

  /** Takes a service out of maintenance. */
  disableServiceMaintenance(id: string): void {
    const svc = this.#p.state.service(id);
    if (!svc) throw new InternalError(`No service registered with ID ${JSON.stringify(id.split('\0')[0])}`);
    const key = localKey(SERVICE_MAINT_PREFIX + svc.ID, svc.Namespace);
    if (!this.#p.state.check(key)) return;
    this.removeCheck(key);
    this.#p.logger.info({ service: id }, 'Service left maintenance mode');
  }

  /** Puts the node into maintenance (a critical `_node_maintenance` check). */
  enableNodeMaintenance(reason: string, token: string): void {
    if (this.#p.state.check(NODE_MAINT_CHECK_ID)) return;
    this.addCheck(this.#maintCheck(NODE_MAINT_CHECK_ID, 'Node Maintenance Mode', reason || DEFAULT_NODE_MAINT_REASON), null, { source: 'local', persist: true, token });
    this.#p.logger.info({}, 'Node entered maintenance mode');
  }

  /** Takes the node out of maintenance. */
  disableNodeMaintenance(): void {
    if (!this.#p.state.check(NODE_MAINT_CHECK_ID)) return;
    this.removeCheck(NODE_MAINT_CHECK_ID);
    this.#p.logger.info({}, 'Node left maintenance mode');
  }

  #maintCheck(id: string, name: string, notes: string): LocalCheck {
    return {
      Node: this.#p.nodeName, CheckID: id, Name: name, Status: 'critical', Notes: notes, Output: '', ServiceID: '',
      ServiceName: '', ServiceTags: [], Type: 'maintenance', Interval: '', Timeout: '', ExposedPort: 0, Definition: {},
    };
  }

  /** Drops every service and check from memory only (before a reload re-adds them). */
  unloadAll(): void {
    for (const s of this.#p.state.services('*')) if (this.#p.state.service(serviceKeyOf(s))) this.removeService(serviceKeyOf(s), false);
    for (const c of this.#p.state.checks('*')) this.removeCheck(checkKeyOf(c), false);
  }

  /** Syncs pending changes to the catalog before an API call answers. */
  syncChanges(): Promise<void> {
    return this.#p.ae.syncChanges();
  }
}
