// Anti-entropy (Consul's agent/ae/ae.go and State.SyncFull/SyncChanges): pushes local changes
// to the catalog at once, and on a jittered interval compares this node's catalog entries with
// the local state, restoring what drifted and removing what this agent does not own.
import type { Clock, TimerHandle } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import type { HealthCheck, NodeService, RegisterRequest, DeregisterRequest } from '../../api/catalog-types.ts';
import { isACLNotFound, isPermissionDenied } from '../../acl/index.ts';
import { checkKeyOf, localKey, type LocalState, type LocalCheck, type ConfigSource } from './state.ts';
import type { LocalService } from './definition.ts';
import { sameCheck, sameService, toNodeService, withServerTaggedAddresses } from './compare.ts';

/** The catalog as anti-entropy sees it: in-process on a server, over RPC on a client. */
export interface CatalogTarget {
  /**
   * This node's services in the catalog, keyed by local key (state.ts localKey: the ID, with the
   * namespace outside the default one; such records carry `Namespace`); undefined when the node is
   * absent. `namespaced`: the agent owns services or checks outside the default namespace, so
   * those namespaces must be read too (a client reads them only then).
   */
  nodeServices(node: string, namespaced?: boolean): Map<string, NodeService> | undefined | Promise<Map<string, NodeService> | undefined>;
  /** This node's checks in the catalog (outside the default namespace with `Namespace`, as nodeServices). */
  nodeChecks(node: string, namespaced?: boolean): HealthCheck[] | Promise<HealthCheck[]>;
  /** Writes with the ACL token `token` ('' = anonymous); ACL denials throw Consul's errors. */
  register(req: RegisterRequest, token: string): Promise<boolean>;
  deregister(req: DeregisterRequest, token: string): Promise<boolean>;
  /** Registers (or repairs) the node itself with its node-level system entries. */
  syncNode(): Promise<void>;
}

/** The agent's tokens anti-entropy writes with (read live: /v1/agent/token can change them). */
export interface SyncTokens {
  /** acl.tokens.agent, falling back to the default token. */
  agent(): string;
  /** acl.tokens.default (Consul's user token). */
  user(): string;
  /** acl.tokens.config_file_service_registration, for config-file registrations. */
  configFile(): string;
}

/** Settings and collaborators of anti-entropy. */
export interface AntiEntropyOptions {
  state: LocalState;
  target: CatalogTarget;
  clock: Clock;
  random: () => number;
  logger: Logger;
  nodeName: string;
  /** Full-sync period (ae_interval, 1m by default). */
  intervalMs: number;
  /** Number of nodes in the cluster, for Consul's log2 interval scaling past 128. */
  clusterSize: () => number;
  /** Catalog entries on this node that anti-entropy never removes (`consul`, `serfHealth`). */
  keepServices: ReadonlySet<string>;
  keepChecks: ReadonlySet<string>;
  tokens: SyncTokens;
}

// Consul's aclTokenFor{Service,Check}Sync: the registration's own token, then the config-file
// registration token for config-file entries, then the user token.
function syncToken(tokens: SyncTokens, own: string, source: ConfigSource): string {
  return own || (source === 'local' ? tokens.configFile() : '') || tokens.user();
}

// A write the token may not make is logged and counted as done until the next full sync, as
// Consul does, so one unauthorized registration does not retry on every change.
function blockedByAcl(err: unknown): boolean {
  return isPermissionDenied(err) || isACLNotFound(err);
}

/** Consul's retryFailIntv: a failed full sync is retried after this (plus jitter). */
export const RETRY_FAIL_MS = 15_000;
const SCALE_THRESHOLD = 128;

/** Consul's ae scaleFactor: 1 up to 128 nodes, then one more per doubling. */
export function scaleFactor(nodes: number): number {
  if (nodes <= SCALE_THRESHOLD) return 1;
  return Math.ceil(Math.log2(nodes) - Math.log2(SCALE_THRESHOLD)) + 1;
}

/** The state syncer: one sync at a time, full syncs on a timer, change syncs on demand. */
export class AntiEntropy {
  readonly #o: AntiEntropyOptions;
  #timer: TimerHandle | undefined;
  #chain: Promise<void> = Promise.resolve();
  #changesQueued = false;
  #paused = 0;
  #stopped = true;
  /** Consul's nodeInfoInSync: false until the node itself was synced once (and after a full sync fails). */
  #nodeInSync = false;

  constructor(opts: AntiEntropyOptions) {
    this.#o = opts;
  }

  /** Runs the first full sync and schedules the next ones. */
  start(): Promise<void> {
    this.#stopped = false;
    return this.#fullAndSchedule();
  }

  /** Stops the timer; a sync in flight finishes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#chain.catch(() => {});
  }

  /** Pauses syncing during bulk changes (nested pauses count). */
  pause(): void {
    this.#paused++;
  }

  /** Ends one pause; the last resume syncs the accumulated changes. */
  resume(): void {
    this.#paused = Math.max(0, this.#paused - 1);
    if (this.#paused === 0) this.trigger();
  }

  /** Requests a change sync soon (coalesced); failures are logged and left to the next full sync. */
  trigger(): void {
    if (this.#stopped || this.#paused > 0 || this.#changesQueued) return;
    this.#changesQueued = true;
    void this.#serial(async () => {
      this.#changesQueued = false;
      await this.#syncChanges();
    }).catch((err) => this.#o.logger.error({ err }, 'failed to sync changes'));
  }

  /** Syncs pending changes now and waits for it (what agent endpoints do before answering). */
  syncChanges(): Promise<void> {
    if (this.#stopped || this.#paused > 0) return Promise.resolve();
    return this.#serial(() => this.#syncChanges()).catch((err) => {
      this.#o.logger.error({ err }, 'failed to sync changes');
    });
  }

  /** Runs a full sync now (drift repair). */
  syncFull(): Promise<void> {
    return this.#serial(() => this.#syncFull());
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  #jitter(ms: number): number {
    return this.#o.random() * scaleFactor(this.#o.clusterSize()) * ms;
  }

  async #fullAndSchedule(): Promise<void> {
    if (this.#stopped) return;
    let next = this.#o.intervalMs + this.#jitter(this.#o.intervalMs);
    try {
      if (this.#paused > 0) next = RETRY_FAIL_MS + this.#jitter(RETRY_FAIL_MS);
      else await this.syncFull();
    } catch (err) {
      this.#o.logger.error({ err }, 'failed to sync remote state');
      next = RETRY_FAIL_MS + this.#jitter(RETRY_FAIL_MS);
    }
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(next, () => void this.#fullAndSchedule());
  }

  async #syncFull(): Promise<void> {
    const { state, target, nodeName } = this.#o;
    this.#nodeInSync = false;
    await target.syncNode();
    this.#nodeInSync = true;
    const namespaced = this.#namespaced();
    const remoteServices = (await target.nodeServices(nodeName, namespaced)) ?? new Map<string, NodeService>();
    const remoteChecks = await target.nodeChecks(nodeName, namespaced);
    const services = state.serviceStates();
    for (const [id, rs] of remoteServices) {
      const ls = services.get(id);
      if (!ls) {
        if (this.#o.keepServices.has(id)) continue;
        services.set(id, { service: rs as unknown as LocalService, token: '', source: 'remote', inSync: false, deleted: true });
        continue;
      }
      if (ls.deleted) continue;
      // EnableTagOverride: tags changed in the catalog win over the local definition.
      if (ls.service.EnableTagOverride) ls.service = { ...ls.service, Tags: rs.Tags ? [...rs.Tags] : null };
      ls.service = withServerTaggedAddresses(ls.service, rs);
      ls.inSync = sameService(ls.service, rs);
    }
    for (const [id, ls] of services) if (!ls.deleted && !remoteServices.has(id)) ls.inSync = false;
    this.#markChecks(remoteChecks);
    await this.#syncChanges();
  }

  /** Whether the agent owns (or still has to remove) any service or check outside the default namespace. */
  #namespaced(): boolean {
    for (const s of this.#o.state.serviceStates().values()) if (s.service.Namespace) return true;
    for (const c of this.#o.state.checkStates().values()) if (c.check.Namespace) return true;
    return false;
  }

  #markChecks(remote: HealthCheck[]): void {
    const checks = this.#o.state.checkStates();
    const seen = new Set<string>();
    for (const rc of remote) {
      const key = checkKeyOf(rc);
      seen.add(key);
      const lc = checks.get(key);
      if (!lc) {
        if (this.#o.keepChecks.has(key)) continue;
        checks.set(key, { check: rc, token: '', source: 'remote', inSync: false, deleted: true });
        continue;
      }
      if (lc.deleted) continue;
      // A pending deferred write-back owns the output; compare statuses and the rest only.
      lc.inSync = sameCheck(lc.check, rc, lc.deferTimer !== undefined);
    }
    for (const [id, lc] of checks) if (!lc.deleted && !seen.has(id)) lc.inSync = false;
  }

  async #syncChanges(): Promise<void> {
    const { state, target, nodeName } = this.#o;
    // A client's first full sync may fail before it knows a server while the leader's reconcile
    // registers the node: the node's own details still go out with the next change sync.
    if (!this.#nodeInSync || (await target.nodeServices(nodeName)) === undefined) {
      await target.syncNode();
      this.#nodeInSync = true;
    }
    for (const [id, s] of [...state.serviceStates()]) {
      if (s.deleted) {
        const ns = s.service.Namespace;
        const req = ns ? { Node: nodeName, ServiceID: s.service.ID, Namespace: ns } : { Node: nodeName, ServiceID: id };
        if (await this.#deregister(req, 'service', s.service.ID)) state.forgetService(id);
      } else if (!s.inSync) await this.#syncService(id);
    }
    for (const [id, c] of [...state.checkStates()]) {
      if (c.deleted) {
        const ns = c.check.Namespace;
        const req = ns ? { Node: nodeName, CheckID: c.check.CheckID, Namespace: ns } : { Node: nodeName, CheckID: id };
        if (await this.#deregister(req, 'check', c.check.CheckID)) state.forgetCheck(id);
      } else if (!c.inSync) await this.#syncCheck(c.check);
    }
  }

  // Deletes always use the agent token: it must have node:write, which covers everything on the
  // node, and the registration's own token may have been deleted since.
  async #deregister(req: DeregisterRequest, kind: 'service' | 'check', id: string): Promise<boolean> {
    try {
      await this.#o.target.deregister(req, this.#o.tokens.agent());
      return true;
    } catch (err) {
      if (!blockedByAcl(err)) throw err;
      this.#o.logger.warn({ [kind]: id }, `${kind === 'service' ? 'Service' : 'Check'} deregistration blocked by ACLs`);
      return false;
    }
  }

  async #syncService(id: string): Promise<void> {
    const { state, target, nodeName } = this.#o;
    const s = state.serviceStates().get(id)!;
    const token = syncToken(this.#o.tokens, s.token, s.source);
    // Checks ride along only under the same token, so they gain no privilege from the service's.
    const checks = [...state.checkStates().values()].filter((c) => !c.deleted && c.check.ServiceID !== ''
      && localKey(c.check.ServiceID, c.check.Namespace) === id && syncToken(this.#o.tokens, c.token, c.source) === token);
    const sent = { service: s.service, checks: checks.map((c) => c.check) };
    try {
      await target.register({ Node: nodeName, Address: '', SkipNodeUpdate: true, Service: toNodeService(sent.service), Checks: sent.checks }, token);
    } catch (err) {
      if (!blockedByAcl(err)) throw err;
      this.#o.logger.warn({ service: id }, 'Service registration blocked by ACLs');
    }
    // Only what was sent is in sync; a change that raced the write stays pending.
    if (s.service === sent.service) s.inSync = true;
    checks.forEach((c, i) => { if (c.check === sent.checks[i]) c.inSync = true; });
  }

  async #syncCheck(check: LocalCheck): Promise<void> {
    const { state, target, nodeName } = this.#o;
    const svc = check.ServiceID ? state.serviceStates().get(localKey(check.ServiceID, check.Namespace)) : undefined;
    const key = checkKeyOf(check);
    const own = state.checkStates().get(key);
    try {
      await target.register({
        Node: nodeName, Address: '', SkipNodeUpdate: true, Check: check,
        ...(svc && !svc.deleted ? { Service: toNodeService(svc.service) } : {}),
      }, syncToken(this.#o.tokens, own?.token ?? '', own?.source ?? 'remote'));
    } catch (err) {
      if (!blockedByAcl(err)) throw err;
      this.#o.logger.warn({ check: check.CheckID }, 'Check registration blocked by ACLs');
    }
    const c = state.checkStates().get(key);
    if (c && c.check === check) c.inSync = true;
  }
}
