// The discovery chain endpoint (Consul's DiscoveryChain.Get): service:read on the chain's
// service, then the chain compiled from the config entries it reads, blocking on exactly
// those entries (present or absent) and on the cluster id that names the trust domain.
import { createRequire } from 'node:module';
import { InternalError } from '../errors.ts';
import { CONFIG_ENTRIES_TABLE } from '../state/index.ts';
import { trustDomain } from '../connect/index.ts';
import type { CompiledDiscoveryChain, ChainEntry } from '../connect/discovery-chain/index.ts';
import { authorize } from './acl-enforce.ts';
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

  /** The compiled chain of `service`; a graph that does not compile is Consul's 500 text. */
  get(service: string, o: ChainOverrides, opts: QueryOptions): Promise<QueryResult<CompiledDiscoveryChain>> {
    authorize(opts.authz, 'serviceRead', service);
    const { configEntries, meta } = this.#deps.replica;
    const { compileChain, ChainGraphError } = load();
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(meta.name);
      const clusterId = meta.get('cluster')?.ClusterID;
      if (!clusterId) throw new InternalError('no cluster ca config setup');
      const entries = {
        get: (kind: string, name: string): ChainEntry | undefined => {
          ws.addKey(CONFIG_ENTRIES_TABLE, `${kind}/${name}`);
          return configEntries.get(kind, name);
        },
      };
      const index = Math.max(1, ...CHAIN_KINDS.map((k) => configEntries.kindIndex(k)));
      try {
        const chain = compileChain({
          serviceName: service, datacenter: o.compileDc || this.#deps.config.datacenter, trustDomain: trustDomain(clusterId),
          overrideProtocol: o.overrideProtocol, overrideConnectTimeoutMs: o.overrideConnectTimeoutMs,
          overrideMeshGateway: o.overrideMeshGatewayMode ? { Mode: o.overrideMeshGatewayMode } : undefined, entries,
        });
        return { index, value: chain };
      } catch (err) {
        if (err instanceof ChainGraphError) throw new InternalError(`failed to compile discovery chain: ${err.message}`);
        throw err;
      }
    });
  }
}
