// The status area: the Raft leader and peer set as /v1/status reports them.

import type { ApiResponse, CallOptions, ConsulClient } from './client.ts';

/** Client for `/v1/status`. */
export class StatusApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** The leader's RPC address (`ip:port`), or '' when there is none. */
  leader(options?: CallOptions): Promise<ApiResponse<string>> {
    return this.#c.json<string>({ method: 'GET', path: '/v1/status/leader', options });
  }

  /** The RPC addresses of the Raft peers. */
  peers(options?: CallOptions): Promise<ApiResponse<string[]>> {
    return this.#c.json<string[]>({ method: 'GET', path: '/v1/status/peers', options });
  }
}
