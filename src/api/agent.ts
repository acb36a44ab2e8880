// The agent area: calls served by the local agent itself (/v1/agent/*); services, checks and
// maintenance live in agent-services.ts.

import { AgentServicesApi } from './agent-services.ts';
import type { ApiResponse, CallOptions, ConsulClient } from './client.ts';
import type { AgentSelf } from './types.ts';

/** Client for `/v1/agent`; the service, check and maintenance calls come from AgentServicesApi. */
export class AgentApi extends AgentServicesApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    super(client);
    this.#c = client;
  }

  /** The agent's configuration, member record and stats. */
  self(options?: CallOptions): Promise<ApiResponse<AgentSelf>> {
    return this.#c.json<AgentSelf>({ method: 'GET', path: '/v1/agent/self', options });
  }
}
