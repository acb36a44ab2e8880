// The agent's local state (Consul's agent/local/state.go): the services and checks this agent
// owns, their tokens, whether each is in sync with the catalog, and the deferred write-back
// of output-only check changes. Anti-entropy reads and clears the sync flags.
import type { Clock, TimerHandle } from '../../clock.ts';
import type { HealthCheck } from '../../api/catalog-types.ts';
import type { LocalService } from './definition.ts';

/** A check as the agent owns it: Consul's HealthCheck without Raft indexes (Namespace only outside the default namespace). */
export type LocalCheck = Omit<HealthCheck, 'CreateIndex' | 'ModifyIndex'>;

/**
 * The key of a service or check in the agent's local state (Consul's ServiceID/CheckID with their
 * EnterpriseMeta): the ID itself in the default namespace, `<id>\0<namespace>` in another. Every
 * LocalState, LocalAgent, runner and persistence method taking an `id` takes this key.
 */
export function localKey(id: string, namespace?: string): string {
  if (!namespace) return id;
  const ns = namespace.toLowerCase();
  return ns === DEFAULT_NAMESPACE ? id : `${id}\0${ns}`;
}

/** The local key of a service. */
export function serviceKeyOf(s: { ID: string; Namespace?: string }): string {
  return localKey(s.ID, s.Namespace);
}

/** The local key of a check. */
export function checkKeyOf(c: { CheckID: string; Namespace?: string }): string {
  return localKey(c.CheckID, c.Namespace);
}

const DEFAULT_NAMESPACE = 'default';

/** Whether a local service or check is in `namespace` ('*': any); node checks are the default namespace's. */
function inNamespace(rec: { Namespace?: string }, namespace: string): boolean {
  return namespace === '*' || (rec.Namespace ? rec.Namespace.toLowerCase() : DEFAULT_NAMESPACE) === namespace.toLowerCase();
}

/** Where a registration came from: config files (`local`) or the HTTP API (`remote`). */
export type ConfigSource = 'local' | 'remote';

/** One service and its sync bookkeeping. */
export interface ServiceState {
  service: LocalService;
  token: string;
  source: ConfigSource;
  inSync: boolean;
  /** Removed locally; anti-entropy deregisters it and then forgets it. */
  deleted: boolean;
}

/** One check and its sync bookkeeping. */
export interface CheckState {
  check: LocalCheck;
  token: string;
  source: ConfigSource;
  inSync: boolean;
  deleted: boolean;
  /** Pending write-back of an output-only change (check_update_interval). */
  deferTimer?: TimerHandle;
  /** When the check turned critical (Clock ms), for deregister_critical_service_after. */
  criticalSince?: number;
}

/** What LocalState needs from the composition root. */
export interface LocalStateOptions {
  clock: Clock;
  random: () => number;
  nodeName: string;
  /** The agent's admin partition (a client's `partition` config); absent: default. */
  partition?: string;
  /** Milliseconds; 0 syncs every output change at once. */
  checkUpdateIntervalMs: number;
  discardCheckOutput?: boolean;
  /** Called whenever something needs syncing (Consul's TriggerSyncChanges). */
  triggerSync: () => void;
}

/** The services and checks this agent owns. */
export class LocalState {
  readonly #opts: LocalStateOptions;
  readonly #services = new Map<string, ServiceState>();
  readonly #checks = new Map<string, CheckState>();
  readonly #listeners = new Set<() => void>();

  constructor(opts: LocalStateOptions) {
    this.#opts = opts;
  }

  /** The node these services and checks live on. */
  get nodeName(): string {
    return this.#opts.nodeName;
  }

  /** The admin partition these services and checks live in, lower-case. */
  get partition(): string {
    return (this.#opts.partition || DEFAULT_NAMESPACE).toLowerCase();
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    for (const fn of [...this.#listeners]) fn();
    this.#opts.triggerSync();
  }

  /** Adds or replaces a service; checks of the service pick up its name and tags. */
  addService(service: LocalService, token: string, source: ConfigSource): void {
    const key = serviceKeyOf(service);
    this.#services.set(key, { service, token, source, inSync: false, deleted: false });
    for (const c of this.#checks.values()) {
      if (c.deleted || localKey(c.check.ServiceID, c.check.Namespace) !== key) continue;
      c.check = { ...c.check, ServiceName: service.Service, ServiceTags: service.Tags ?? [] };
      c.inSync = false;
    }
    this.#changed();
  }

  /** Marks a service deleted; false when it is unknown. */
  removeService(id: string): boolean {
    const s = this.#services.get(id);
    if (!s || s.deleted) return false;
    s.deleted = true;
    s.inSync = false;
    this.#changed();
    return true;
  }

  /** A live service, or undefined. */
  service(id: string): LocalService | undefined {
    const s = this.#services.get(id);
    return s && !s.deleted ? s.service : undefined;
  }

  /** Every live service of a namespace (default: the default one; '*': all), sorted by ID. */
  services(namespace = DEFAULT_NAMESPACE): LocalService[] {
    return [...this.#services.values()].filter((s) => !s.deleted && inNamespace(s.service, namespace)).map((s) => s.service)
      .sort((a, b) => (a.ID < b.ID ? -1 : 1));
  }

  /** The token a service was registered with. */
  serviceToken(id: string): string {
    return this.#services.get(id)?.token ?? '';
  }

  /** Adds or replaces a check; a service check takes the service's name and tags. */
  addCheck(check: LocalCheck, token: string, source: ConfigSource): void {
    const svc = check.ServiceID ? this.service(localKey(check.ServiceID, check.Namespace)) : undefined;
    const c: LocalCheck = svc ? { ...check, ServiceName: svc.Service, ServiceTags: svc.Tags ?? [] } : check;
    if (this.#opts.discardCheckOutput) c.Output = '';
    const key = checkKeyOf(check);
    this.#checks.get(key)?.deferTimer?.cancel();
    const criticalSince = c.Status === 'critical' ? this.#checks.get(key)?.criticalSince ?? this.#opts.clock.now() : undefined;
    this.#checks.set(key, { check: c, token, source, inSync: false, deleted: false, criticalSince });
    this.#changed();
  }

  /** Marks a check deleted; false when it is unknown. */
  removeCheck(id: string): boolean {
    const c = this.#checks.get(id);
    if (!c || c.deleted) return false;
    c.deferTimer?.cancel();
    c.deferTimer = undefined;
    c.deleted = true;
    c.inSync = false;
    this.#changed();
    return true;
  }

  /** A live check, or undefined. */
  check(id: string): LocalCheck | undefined {
    const c = this.#checks.get(id);
    return c && !c.deleted ? c.check : undefined;
  }

  /** Every live check of a namespace (default: the default one, node checks included; '*': all), sorted by ID. */
  checks(namespace = DEFAULT_NAMESPACE): LocalCheck[] {
    return [...this.#checks.values()].filter((c) => !c.deleted && inNamespace(c.check, namespace)).map((c) => c.check)
      .sort((a, b) => (a.CheckID < b.CheckID ? -1 : 1));
  }

  /** The checks of one service (by its local key), with the node's own checks when `withNode`. */
  checksForService(serviceKey: string, withNode: boolean): LocalCheck[] {
    return this.checks('*').filter((c) => (c.ServiceID !== '' && localKey(c.ServiceID, c.Namespace) === serviceKey) || (withNode && c.ServiceID === ''));
  }

  /** The token a check was registered with. */
  checkToken(id: string): string {
    return this.#checks.get(id)?.token ?? '';
  }

  /** When a live check turned critical, if it is critical. */
  criticalSince(id: string): number | undefined {
    const c = this.#checks.get(id);
    return c && !c.deleted ? c.criticalSince : undefined;
  }

  /**
   * Records a check result (Consul's State.UpdateCheck): a status change syncs at once; an
   * output-only change is written back after check_update_interval/2 plus up to a full
   * interval of stagger, so chatty checks do not flood the servers.
   */
  updateCheck(id: string, status: string, output: string): void {
    const c = this.#checks.get(id);
    if (!c || c.deleted) return;
    if (this.#opts.discardCheckOutput) output = '';
    if (status === 'critical') c.criticalSince ??= this.#opts.clock.now();
    else c.criticalSince = undefined;
    if (c.check.Status === status && c.check.Output === output) return;
    const interval = this.#opts.checkUpdateIntervalMs;
    if (interval > 0 && c.check.Status === status) {
      c.check = { ...c.check, Output: output };
      c.deferTimer ??= this.#opts.clock.setTimer(interval / 2 + this.#opts.random() * interval, () => {
        c.deferTimer = undefined;
        if (c.deleted || this.#checks.get(id) !== c) return;
        c.inSync = false;
        this.#opts.triggerSync();
      });
      for (const fn of [...this.#listeners]) fn();
      return;
    }
    c.check = { ...c.check, Status: status, Output: output };
    c.inSync = false;
    this.#changed();
  }

  /** Every service state, deleted ones included (for anti-entropy). */
  serviceStates(): Map<string, ServiceState> {
    return this.#services;
  }

  /** Every check state, deleted ones included (for anti-entropy). */
  checkStates(): Map<string, CheckState> {
    return this.#checks;
  }

  /** Forgets a deleted service once the catalog no longer has it. */
  forgetService(id: string): void {
    if (this.#services.get(id)?.deleted) this.#services.delete(id);
  }

  /** Forgets a deleted check once the catalog no longer has it. */
  forgetCheck(id: string): void {
    if (this.#checks.get(id)?.deleted) this.#checks.delete(id);
  }

  /** Cancels pending timers. */
  close(): void {
    for (const c of this.#checks.values()) c.deferTimer?.cancel();
  }
}
