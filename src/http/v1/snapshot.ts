// /v1/snapshot: GET streams a gzipped snapshot archive with X-Consul-Index, PUT restores one
// (Consul's snapshot_endpoint.go). Both need a management token once ACLs are on.
import type { SnapshotEndpoint } from '../../endpoint/index.ts';
import type { HttpResult } from '../router.ts';
import { authzOf, checkDatacenter, flag, type HttpRequest, type RequestConfig } from '../request.ts';

// Consul reads the restore body without a limit; this only guards against runaway uploads.
const MAX_SNAPSHOT_BYTES = 2 ** 31 - 1;

/** Handlers for the snapshot routes. */
export function snapshotHandlers(ep: SnapshotEndpoint, cfg: RequestConfig) {
  return {
    async save(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const { archive, meta } = await ep.save(authzOf(req, cfg), { stale: flag(req, 'stale') });
      return { raw: archive, contentType: 'application/x-gzip', meta };
    },
    async restore(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const id = authzOf(req, cfg);
      await ep.restore(id, await req.body(MAX_SNAPSHOT_BYTES));
      return {};
    },
  };
}
