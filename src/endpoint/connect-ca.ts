// The Connect CA read endpoint: the roots list (with blocking on the roots table) and the
// trust domain derived from the cluster id.
import { rootsResponse, type CARoot, type CARootList } from '../connect/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';

/** Connect CA reads. */
export class ConnectCAEndpoint {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** The cluster's CA roots, as GET /v1/connect/ca/roots serves them. */
  roots(opts: QueryOptions): Promise<QueryResult<CARootList>> {
    const { caRoots, meta } = this.#deps.replica;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(caRoots.name).addTable(meta.name);
      const clusterId = meta.get('cluster')?.ClusterID ?? '';
      const roots = caRoots.all() as unknown as CARoot[];
      return { index: Math.max(caRoots.index, 1), value: rootsResponse(roots, clusterId) };
    });
  }
}
