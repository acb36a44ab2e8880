// GET /v1/exported-services: the resolved exports (Consul 1.17.3+), blocking on the entries
// they come from; the resolution lives in endpoint/exported-services.ts.
import type { QueryOptions, QueryResult } from '../../endpoint/index.ts';
import type { ResolvedExportedService } from '../../api/exported-services.ts';
import type { HttpResult } from '../router.ts';
import { queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';

/** The exported-services handler over the endpoint's read. */
export function exportedServicesHandler(read: (opts: QueryOptions) => Promise<QueryResult<ResolvedExportedService[]>>, cfg: RequestConfig) {
  return async (req: HttpRequest): Promise<HttpResult> => {
    // Consul reads the partition only (parseEntMetaPartition): a namespace given is not read.
    const { value, meta } = await read(queryOptions(req, cfg, { tenancy: 'partition' }));
    return { body: value, meta };
  };
}
