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

  /** The gossip pool as this agent sees it (`wan`: the WAN pool; `segment`: one network segment, `_all` every one). */
  members(wan = false, options?: CallOptions, segment?: string): Promise<ApiResponse<AgentMember[]>> {
    return this.#c.json<AgentMember[]>({ method: 'GET', path: '/v1/agent/members', query: { wan: wan ? '1' : undefined, segment: segment || undefined }, options });
  }

  /** Asks the agent to join the pool through `address`. */
  async join(address: string, wan = false, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: `/v1/agent/join/${encodeURIComponent(address)}`, query: { wan: wan ? '1' : undefined }, options });
  }

  /** Marks a failed member as left (`prune`: removes it from the member list at once). */
  async forceLeave(node: string, prune = false, options?: CallOptions): Promise<void> {
    await this.forceLeaveOpts(node, { prune }, options);
  }

  /** force-leave with Consul's ForceLeaveOpts: `prune`, and `wan` for the servers' WAN pool (node named `<node>.<dc>`). */
  async forceLeaveOpts(node: string, opts: { prune?: boolean; wan?: boolean }, options?: CallOptions): Promise<void> {
    const query = { prune: opts.prune ? '1' : undefined, wan: opts.wan ? '1' : undefined };
    await this.#c.request({ method: 'PUT', path: `/v1/agent/force-leave/${encodeURIComponent(node)}`, query, options });
  }

  /** Makes the agent read its configuration files again (services, checks, TLS files). */
  async reload(options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: '/v1/agent/reload', options });
  }

  /** Makes the agent leave the pool gracefully and shut down. */
  async leave(options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: '/v1/agent/leave', options });
  }

  /**
   * Opens the agent's log stream at `level` and above (Go's Monitor, or MonitorJSON when `json`);
   * resolves once the agent accepted it, with its lines (newline removed) until the agent closes
   * the stream or `options.signal` aborts.
   */
  async monitor(level: string, json = false, options?: CallOptions): Promise<AsyncIterable<string>> {
    const res = await this.#c.stream({
      method: 'GET', path: '/v1/agent/monitor', query: { loglevel: level || undefined, logjson: json ? 'true' : undefined }, options,
    });
    return logLines(res);
  }
}

async function* logLines(res: NodeJS.ReadableStream & { destroy(): void }): AsyncGenerator<string> {
  // Decoded as a stream, so a character split across two chunks stays whole.
  res.setEncoding('utf8');
  let rest = '';
  try {
    for await (const chunk of res) {
      const parts = (rest + (chunk as string)).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    if (rest) yield rest;
  } catch (err) {
    // The agent going away mid-stream ends the monitor, as Go's scanner stops on a read error.
    if ((err as Error).name !== 'AbortError' && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
  } finally {
    res.destroy();
  }
}

/** One gossip pool member (Consul's api.AgentMember); Status 1 alive, 2 leaving, 3 left, 4 failed. */
export interface AgentMember {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  Status: number;
  ProtocolMin: number;
  ProtocolMax: number;
  ProtocolCur: number;
  DelegateMin: number;
  DelegateMax: number;
  DelegateCur: number;
}
