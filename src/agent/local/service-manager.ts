// Central service config for the agent's proxies and gateways (Consul's agent/service_manager.go):
// one watch per registration on its resolved defaults (a blocking query on the servers' config
// entries), delivering each new answer so the registration is merged again.
import type { Clock, TimerHandle } from '../../clock.ts';
import { InternalError, PermissionDeniedError } from '../../errors.ts';
import { isPermissionDenied } from '../../acl/index.ts';
import type { Logger } from '../../log.ts';
import type { ServiceConfigRequest, ServiceConfigResponse } from '../../api/service-config-types.ts';
import type { LocalService } from './definition.ts';
import { serviceKeyOf } from './state.ts';
import { mergeServiceConfig, serviceConfigRequest } from '../../endpoint/service-config-merge.ts';

/** Where resolved defaults come from: the replica on a server, a server's RPC on a client. */
export interface ServiceConfigSource {
  /**
   * Resolves `req` under `token`; with `index` > 0, waits until the answer's index passes it or
   * `waitMs` (the source's longest wait when absent) has passed.
   */
  resolve(req: ServiceConfigRequest, token: string, index: number, signal: AbortSignal, waitMs?: number): Promise<{ value: ServiceConfigResponse; index: number }>;
}

/** What the manager needs. */
export interface ServiceManagerDeps {
  source: ServiceConfigSource;
  clock: Clock;
  logger: Logger;
  /** The agent token, used when a registration has none (Consul's makeConfigRequest). */
  agentToken: () => string;
  /** The agent's admin partition (a client agent's `partition`), where its registrations are; absent: default. */
  partition?: string;
}

interface Watch {
  key: string;
  token: string;
  abort: AbortController;
  defaults?: ServiceConfigResponse;
  /** Settles with the first answer (or its failure). */
  first: Promise<ServiceConfigResponse>;
  onUpdate?: (d: ServiceConfigResponse) => void;
  retry?: TimerHandle;
  /** Fails `first` if it has not settled (the watch stopped while a registration waited on it). */
  cancel: () => void;
}

/** The wait after the first failures of a watch; doubling past them, up to RETRY_MAX_MS. */
const RETRY_MS = 1000;
const RETRY_MAX_MS = 60_000;
/** Failures retried after RETRY_MS before the waits start doubling (Consul's CacheRefreshBackoffMin). */
const RETRY_FLAT = 3;

/**
 * How long a watch waits after its `failures`-th failure in a row: Consul's agent cache retries
 * a failing fetch a few times, then waits 2 s, 4 s, … up to a minute (backOffWait).
 */
export function retryWait(failures: number): number {
  if (failures <= RETRY_FLAT) return RETRY_MS;
  return Math.min(RETRY_MAX_MS, 2 ** Math.min(failures - RETRY_FLAT, 16) * 1000);
}
/** Last answers kept by request and token, so a re-registration (a reload) merges at once. */
const LAST_ANSWERS_MAX = 1024;

/** The watches of the agent's proxy and gateway registrations, by local key (the service ID in the default namespace). */
export class ServiceManager {
  readonly #d: ServiceManagerDeps;
  readonly #watches = new Map<string, Watch>();
  readonly #last = new Map<string, ServiceConfigResponse>();

  constructor(deps: ServiceManagerDeps) {
    this.#d = deps;
  }

  /**
   * Fetches the defaults of a registration before it is added, so errors (ACLs, no server)
   * reach the caller as Consul's AddService reports them; the watch then keeps them current.
   */
  async prime(s: LocalService, token: string): Promise<void> {
    const w = this.#ensure(s, token);
    if (!w) return;
    try {
      await w.first;
    } catch (err) {
      // Only this registration's watch: a newer registration of the same ID may have replaced it.
      if (this.#watches.get(serviceKeyOf(s)) === w) this.stop(serviceKeyOf(s));
      const message = `could not retrieve initial service_defaults config for service ${JSON.stringify(s.ID)}: ${(err as Error).message}`;
      // Consul's HTTP layer answers 403 to any error that carries a permission denial.
      throw isPermissionDenied(err) ? new PermissionDeniedError(message, { cause: err }) : new InternalError(message, { cause: err });
    }
  }

  /**
   * Starts (or keeps) the watch of a registration and returns the defaults known now; `onUpdate`
   * gets every later answer. Undefined, and no watch, when central config does not apply.
   */
  track(s: LocalService, token: string, onUpdate: (d: ServiceConfigResponse) => void): ServiceConfigResponse | undefined {
    const w = this.#ensure(s, token);
    if (!w) return undefined;
    w.onUpdate = onUpdate;
    return w.defaults;
  }

  /** True when central config applies to the registration (a sidecar proxy or a gateway). */
  applies(s: LocalService): boolean {
    return serviceConfigRequest(s, this.#d.partition) !== undefined;
  }

  /** The registration merged with `defaults` (Consul's MergeServiceConfig). */
  merge(defaults: ServiceConfigResponse | undefined, s: LocalService): LocalService {
    return mergeServiceConfig(defaults, s, this.#d.partition);
  }

  /** Ends the watch of a service. */
  stop(id: string): void {
    const w = this.#watches.get(id);
    if (!w) return;
    this.#watches.delete(id);
    w.abort.abort();
    w.retry?.cancel();
    w.cancel();
  }

  /** Ends every watch. */
  stopAll(): void {
    for (const id of [...this.#watches.keys()]) this.stop(id);
  }

  #remember(key: string, value: ServiceConfigResponse): void {
    this.#last.delete(key);
    this.#last.set(key, value);
    if (this.#last.size > LAST_ANSWERS_MAX) this.#last.delete(this.#last.keys().next().value!);
  }

  #ensure(s: LocalService, token: string): Watch | undefined {
    const req = serviceConfigRequest(s, this.#d.partition);
    if (!req) {
      this.stop(serviceKeyOf(s));
      return undefined;
    }
    const key = JSON.stringify(req);
    const tok = token || this.#d.agentToken();
    // By local key: the same ID in two namespaces is two registrations.
    const id = serviceKeyOf(s);
    const cur = this.#watches.get(id);
    if (cur && cur.key === key && cur.token === tok) return cur;
    this.stop(id);
    let settle!: { ok: (d: ServiceConfigResponse) => void; fail: (e: unknown) => void };
    const first = new Promise<ServiceConfigResponse>((ok, fail) => { settle = { ok, fail }; });
    first.catch(() => {});
    // A registration waiting in prime() must not wait forever on a watch that was stopped (a
    // deregistration, a concurrent re-registration with other upstreams, the agent stopping).
    const cancel = () => settle.fail(new InternalError('context canceled'));
    const w: Watch = { key, token: tok, abort: new AbortController(), first, cancel, defaults: this.#last.get(`${tok}\n${key}`) };
    this.#watches.set(id, w);
    void this.#run(id, req, w, settle);
    return w;
  }

  async #run(id: string, req: ServiceConfigRequest, w: Watch, settle: { ok: (d: ServiceConfigResponse) => void; fail: (e: unknown) => void }): Promise<void> {
    let index = 0;
    let settled = false;
    let failures = 0;
    while (!w.abort.signal.aborted) {
      try {
        const res = await this.#d.source.resolve(req, w.token, index, w.abort.signal);
        if (w.abort.signal.aborted) return;
        // An index that went backwards (a restore) starts over, as blocking clients do.
        const fresh = res.index !== index || !settled;
        index = res.index < index ? 0 : res.index;
        failures = 0;
        if (!fresh) continue;
        w.defaults = res.value;
        this.#remember(`${w.token}\n${w.key}`, res.value);
        if (!settled) {
          settled = true;
          settle.ok(res.value);
        }
        w.onUpdate?.(res.value);
      } catch (err) {
        if (w.abort.signal.aborted) return;
        if (!settled) {
          settled = true;
          settle.fail(err);
        }
        // A client agent without a server yet fails until one joins: said once, then quietly, and
        // retried less and less often (a revoked token must not cost a server call a second).
        const log = ++failures === 1 ? this.#d.logger.error.bind(this.#d.logger) : this.#d.logger.debug.bind(this.#d.logger);
        log({ service: id, error: (err as Error).message }, 'error watching service config');
        await new Promise<void>((resolve) => { w.retry = this.#d.clock.setTimer(retryWait(failures), resolve); });
      }
    }
  }
}
