// The discovery chain endpoint (Consul's DiscoveryChain.Get): service:read on the chain's
// service, then the chain compiled from the config entries it reads, blocking on exactly
// those entries (present or absent) and on the cluster id that names the trust domain.
import { createRequire } from 'node:module';
import { InternalError } from '../errors.ts';
import {
  CONFIG_ENTRIES_TABLE, DEFAULT_TENANCY_NAME, isDefaultEnt, configEntriesOf, configEntryEnt, configEntriesTableName, type EnterpriseMeta,
  VIRTUAL_IPS_TABLE, DEFAULT_ENT, vipServiceId,
} from '../state/index.ts';
import { trustDomain } from '../connect/index.ts';
import type { CompiledDiscoveryChain, ChainEntry } from '../connect/discovery-chain/index.ts';
import { authorize, entContext } from './acl-enforce.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';

type Compiler = typeof import('../connect/discovery-chain/index.ts');
const require = createRequire(import.meta.url);
let compiler: Compiler | undefined;
/** The compiler, loaded on the first chain request (agents that never serve one skip it, issue #9). */
const load = (): Compiler => (compiler ??= require('../connect/discovery-chain/index.ts') as Compiler);

/** The kinds a chain is compiled from; the answer's index is the highest of theirs. */
const CHAIN_KINDS = ['service-router', 'service-splitter', 'service-resolver', 'service-defaults', 'proxy-defaults'];

/** What a caller may change in the compilation (POST /v1/discovery-chain/:service). */
export interface ChainOverrides {
  /** Datacenter to evaluate the chain in (`?compile-dc`); '' for the server's. */
  compileDc: string;
  overrideProtocol?: string;
  /** Milliseconds; 0 for none. */
  overrideConnectTimeoutMs?: number;
  overrideMeshGatewayMode?: string;
}

/** Discovery chain reads. */
export class DiscoveryChainEndpoint {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /**
   * The compiled chain of `service` in the request's namespace and partition (default: the default
   * tenant); a graph that does not compile is Consul's 500 text. Each entry is read from the
   * namespace the compiler asks (a target's), partition-level kinds from the partition's default
   * namespace; targets are `<svc>.<ns>.<ap>.<dc>`.
   */
  get(service: string, o: ChainOverrides, opts: QueryOptions): Promise<QueryResult<CompiledDiscoveryChain>> {
    const ent = opts.ent !== undefined && !isDefaultEnt(opts.ent) ? opts.ent : undefined;
    authorize(opts.authz, 'serviceRead', service, entContext(ent));
    const replica = this.#deps.replica;
    const { configEntries, meta } = replica;
    const { compileChain, ChainGraphError } = load();
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(meta.name);
      const clusterId = meta.get('cluster')?.ClusterID;
      if (!clusterId) throw new InternalError('no cluster ca config setup');
      let index = ent ? 1 : Math.max(1, ...CHAIN_KINDS.map((k) => configEntries.kindIndex(k)));
      /** An entry of another tenant than the default one (its table and notifier table). */
      const tenantEntry = (kind: string, name: string, namespace: string, partition: string): ChainEntry | undefined => {
        const t = configEntryEnt(kind, { partition, namespace });
        const tenant = t === undefined || isDefaultEnt(t) ? undefined : t;
        ws.addKey(configEntriesTableName(tenant), `${kind}/${name}`);
        const table = configEntriesOf(replica, tenant);
        index = Math.max(index, ...CHAIN_KINDS.map((k) => table.kindIndex(k)));
        return table.get(kind, name);
      };
      const entries = {
        get: (kind: string, name: string, namespace?: string, partition?: string): ChainEntry | undefined => {
          const ns = namespace ?? ent?.namespace ?? DEFAULT_TENANCY_NAME;
          const ap = partition ?? ent?.partition ?? DEFAULT_TENANCY_NAME;
          // The compiler asks in lower-case `default` for the default tenant: no fold, no object, on that path.
          if (ent || ((ns !== DEFAULT_TENANCY_NAME || ap !== DEFAULT_TENANCY_NAME) && !isDefaultEnt({ namespace: ns, partition: ap }))) {
            return tenantEntry(kind, name, ns, ap);
          }
          ws.addKey(CONFIG_ENTRIES_TABLE, `${kind}/${name}`);
          return configEntries.get(kind, name);
        },
      };
      try {
        const chain = compileChain({
          serviceName: service, datacenter: o.compileDc || this.#deps.config.datacenter, trustDomain: trustDomain(clusterId),
          ...(ent ? { namespace: ent.namespace.toLowerCase(), partition: (ent.partition || DEFAULT_TENANCY_NAME).toLowerCase() } : {}),
          overrideProtocol: o.overrideProtocol, overrideConnectTimeoutMs: o.overrideConnectTimeoutMs,
          overrideMeshGateway: o.overrideMeshGatewayMode ? { Mode: o.overrideMeshGatewayMode } : undefined, entries,
        });
        // The service's VIPs (Consul's ServiceDiscoveryChain reads its virtual IP row): watched, and in the index.
        ws.addKey(VIRTUAL_IPS_TABLE, vipServiceId(ent ?? DEFAULT_ENT, service));
        const vip = replica.virtualIPs.service(ent ?? DEFAULT_ENT, service);
        if (!vip) return { index, value: chain };
        const value = { ...chain, AutoVirtualIPs: [vip.address], ManualVirtualIPs: [...vip.ManualIPs ?? []] };
        return { index: Math.max(index, vip.ContentIndex), value };
      } catch (err) {
        if (err instanceof ChainGraphError) throw new InternalError(`failed to compile discovery chain: ${err.message}`);
        throw err;
      }
    });
  }
}
