// What the public listener of an http service enforces per request: the service's protocol (its
// discovery chain) and the intentions matching it as destination, both kept fresh by blocking
// queries, and the default for callers no intention names (the agent's ACL default policy).
import type { ApiResponse, ConsulClient, QueryOptions } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import { WILDCARD, type Intention } from '../intentions.ts';
import { blockingWatch, Readiness } from '../watch.ts';
import { authorize } from './agent-calls.ts';
import { isH2Protocol, isL7Protocol } from './l7-chain.ts';
import { callerIdentity, isLocalCaller, rbacVerdict } from './l7-rbac.ts';
import type { Tenancy } from './agent-calls.ts';
import type { L7Request } from './l7-route.ts';

/** A service name no intention is expected to name, to ask the agent for the default. */
const PROBE = 'proconsul-intention-default-probe';

/** The agent's reason when no intention matched (ConnectAuthorize). */
const DEFAULT_REASON = 'Default behavior configured by ACLs';

/** A caller of the public listener: its certificate's SPIFFE URI and serial (colon-hex). */
export interface Caller {
  uri: string;
  serial: string;
}

/** The service's protocol and intentions; start(), then ask allows() once ready() resolves. */
export class InboundPolicy {
  #client: ConsulClient;
  #service: string;
  #trustDomain: () => string;
  #log: Logger;
  /** The service's namespace and partition as API options (none for the default ones). */
  #tenancy: Tenancy;
  #abort = new AbortController();
  #ready = new Readiness();
  #protocol: string | undefined;
  #intentions: Intention[] | undefined;
  /** The ACL default, learnt from the agent the first time a caller no intention names needs it. */
  #defaultAllow: boolean | undefined;
  /** The last default the agent gave (kept across intention changes), for when it cannot be asked. */
  #learntDefault: boolean | undefined;
  #pending = 2;
  /** Called after the protocol changes. */
  onProtocolChange: (() => void) | undefined;

  constructor(client: ConsulClient, service: string, trustDomain: () => string, log: Logger, tenancy: Tenancy = {}) {
    this.#client = client;
    this.#tenancy = tenancy;
    this.#service = service;
    this.#trustDomain = trustDomain;
    this.#log = log;
  }

  /** True once ready() has resolved. */
  get settled(): boolean {
    return this.#ready.settled;
  }

  /** True while the service's protocol is http, http2 or grpc (requests are then authorized one by one). */
  get isHttp(): boolean {
    return isL7Protocol(this.#protocol);
  }

  /** True while the service's protocol is spoken as HTTP/2 (http2, grpc). */
  get isH2(): boolean {
    return isH2Protocol(this.#protocol);
  }

  /** Resolves once the protocol and the intentions have each been read once (or failed to be). */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Starts both watches. */
  start(): void {
    const name = encodeURIComponent(this.#service);
    this.#watch('discovery chain', (options) => this.#client.json<{ Chain: { Protocol?: string } }>({ method: 'GET', path: `/v1/discovery-chain/${name}`, options: { ...options, ...this.#tenancy } }), (d) => {
      const before = this.#protocol;
      this.#protocol = d.Chain?.Protocol ?? 'tcp';
      if (before !== undefined && before !== this.#protocol) this.onProtocolChange?.();
    });
    this.#watch('intentions', (options) => this.#client.json<Record<string, Intention[] | null>>({
      method: 'GET', path: '/v1/connect/intentions/match', query: { by: 'destination', name: this.#service }, options: { ...options, ...this.#tenancy },
    }), (d) => {
      this.#intentions = d[this.#service] ?? [];
      // A changed ACL default needs an agent restart, but the agent may have been restarted meanwhile.
      this.#defaultAllow = undefined;
    });
  }

  /**
   * Whether `req` from `caller` is allowed by the current intentions. The default applies to a
   * caller no intention names, and to one whose L7 intention has no matching permission.
   * Before the intentions were ever read, nothing is allowed.
   */
  async allows(caller: Caller, req: L7Request, signal?: AbortSignal): Promise<boolean> {
    const intentions = this.#intentions;
    if (!intentions) return false;
    const id = callerIdentity(caller.uri, this.#trustDomain());
    const verdict = rbacVerdict(intentions, id, req);
    if (verdict !== 'default') return verdict === 'allow';
    return this.#defaultAllow ?? this.#learnDefault(caller, id, intentions, signal);
  }

  /**
   * The ACL default, from the agent's ConnectAuthorize for a caller no intention names (its
   * answer is then the default): the request's caller renamed to a service none of `intentions`
   * names. Only an answer giving the default's reason is taken: one matching an intention (the
   * agent's view being newer than the watch's, say one naming the probe) is not the default, and
   * the request is refused. With a wildcard source every caller is named and the agent cannot be
   * asked: the default learnt before is used, or the request is refused.
   */
  async #learnDefault(caller: Caller, id: { namespace: string; partition: string } | undefined, intentions: Intention[], signal?: AbortSignal): Promise<boolean> {
    // Only sources that can be this caller matter (another namespace's `*` names none of them).
    const local = intentions.filter((i) => isLocalCaller(i, id));
    if (local.some((i) => i.SourceName === WILDCARD)) return this.#learntDefault ?? false;
    let name = PROBE;
    while (local.some((i) => i.SourceName === name)) name += '-';
    const uri = caller.uri.replace(/\/svc\/[^/]+$/, `/svc/${name}`);
    try {
      const res = await authorize(this.#client, this.#service, uri, caller.serial, signal, this.#tenancy);
      if (res.Reason !== DEFAULT_REASON) {
        this.#log.debug({ reason: res.Reason }, 'the default intention policy probe matched an intention');
        return false;
      }
      this.#learntDefault = res.Authorized;
      if (this.#intentions === intentions) this.#defaultAllow = res.Authorized;
      return res.Authorized;
    } catch (err) {
      this.#log.error({ error: (err as Error).message }, 'failed to read the default intention policy');
      return false;
    }
  }

  /** Stops the watches. */
  close(): void {
    this.#abort.abort();
    this.#ready.mark();
  }

  #done(): void {
    if (--this.#pending === 0) this.#ready.mark();
  }

  /** Starts one watch; it counts towards ready() once, at its first answer or its first failure. */
  #watch<T>(what: string, read: (o: QueryOptions) => Promise<ApiResponse<T>>, set: (v: T) => void): void {
    let counted = false;
    const count = (): void => {
      if (counted) return;
      counted = true;
      this.#done();
    };
    void blockingWatch(what, read, (v) => { set(v); count(); }, this.#log, this.#abort.signal, { failed: count });
  }
}
