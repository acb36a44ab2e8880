// The snapshot area (Go's api.Snapshot): save the servers' state as a gzipped archive and
// restore one. Archives are opaque here; src/snapshot/ reads and verifies them.

import type { CallOptions, ConsulClient, QueryMeta, QueryOptions } from './client.ts';

/** Client for `/v1/snapshot`. */
export class SnapshotApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Takes a snapshot (`stale` lets any server answer); meta.index is the state's index. */
  async save(options?: QueryOptions): Promise<{ data: Buffer; meta: QueryMeta }> {
    const res = await this.#c.request({ method: 'GET', path: '/v1/snapshot', options });
    return { data: res.body, meta: res.meta };
  }

  /** Replaces the servers' whole state with an archive from `save`. */
  async restore(archive: Buffer, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: '/v1/snapshot', body: archive, options });
  }
}
