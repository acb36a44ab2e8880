// The /v1/operator calls the operator commands make (Consul's api.Operator), typed with the
// wire shapes the server returns.
import type { ConsulClient } from '../api/index.ts';

/** One server of the Raft configuration. */
export interface RaftServer {
  ID: string;
  Node: string;
  Address: string;
  Leader: boolean;
  ProtocolVersion: string;
  Voter: boolean;
  LastIndex: number;
}

/** One server's health as autopilot reports it. */
export interface ServerHealthReply {
  ID: string;
  LastIndex: number;
  Healthy: boolean;
}

/** GET /v1/operator/raft/configuration. */
export async function raftConfiguration(c: ConsulClient, stale: boolean): Promise<{ Servers: RaftServer[]; Index: number }> {
  return (await c.json<{ Servers: RaftServer[]; Index: number }>({ method: 'GET', path: '/v1/operator/raft/configuration', options: { stale } })).data;
}

/** GET /v1/operator/autopilot/health (429 is an answer: some server is unhealthy). */
export async function autopilotHealth(c: ConsulClient, stale: boolean): Promise<{ Healthy: boolean; Servers: ServerHealthReply[] }> {
  const spec = { method: 'GET' as const, path: '/v1/operator/autopilot/health', accept: [429], options: { stale } };
  return (await c.json<{ Healthy: boolean; Servers: ServerHealthReply[] }>(spec)).data;
}

/** GET or PUT /v1/operator/autopilot/configuration. */
export async function autopilotConfig(c: ConsulClient, stale: boolean): Promise<Record<string, unknown>> {
  return (await c.json<Record<string, unknown>>({ method: 'GET', path: '/v1/operator/autopilot/configuration', options: { stale } })).data;
}

/** PUT /v1/operator/autopilot/configuration?cas=…; false when the index no longer matches. */
export async function setAutopilotConfig(c: ConsulClient, cfg: Record<string, unknown>, cas: number): Promise<boolean> {
  return (await c.json<boolean>({ method: 'PUT', path: '/v1/operator/autopilot/configuration', query: { cas }, json: cfg })).data;
}
