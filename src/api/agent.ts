// The agent area: calls served by the local agent itself (/v1/agent/*).

import type { ApiResponse, CallOptions, ConsulClient } from './client.ts';
import type { AgentSelf } from './types.ts';

/** Client for `/v1/agent`. */
export class AgentApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** The agent's configuration, member record and stats. */
  self(options?: CallOptions): Promise<ApiResponse<AgentSelf>> {
    return this.#c.json<AgentSelf>({ method: 'GET', path: '/v1/agent/self', options });
  }
}
